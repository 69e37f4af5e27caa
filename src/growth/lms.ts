// The LMS method (Cole & Green) as WHO applies it: parameters interpolated linearly between table rows, and for the indicators whose
// distribution is skewed to the right (weight, BMI, MUAC) WHO's "restricted application" beyond ±3 SD, which measures the distance in
// units of the 2–3 SD gap instead of extrapolating the Box-Cox curve (WHO Child Growth Standards, methods and development, 2006, ch. 7).
import type { Lms, LmsCurve } from './who-data.js';

/** L, M, S at `x`, interpolated between the rows either side; undefined outside the table. */
export function lmsAt(curve: LmsCurve, step: number, x: number): Lms | undefined {
  let pos = (x - curve.first) / step;
  const nearest = Math.round(pos);
  // x on the grid (e.g. 45.3 cm) gives 2.9999999999 from float division: snap so the row itself is used.
  if (Math.abs(pos - nearest) < 1e-9) pos = nearest;
  if (pos < 0 || pos > curve.lms.length - 1) return undefined;
  const i = Math.floor(pos);
  const f = pos - i;
  const a = curve.lms[i];
  if (f === 0) return a;
  const b = curve.lms[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** The measurement at z SD: M (1 + L S z)^(1/L). */
export const valueAtSd = ([l, m, s]: Lms, z: number): number => (l === 0 ? m * Math.exp(s * z) : m * (1 + l * s * z) ** (1 / l));

/** z of `y`; `restricted` applies WHO's rule beyond ±3 SD. */
export function zFromLms(y: number, lms: Lms, restricted: boolean): number {
  const [l, m, s] = lms;
  const z = l === 0 ? Math.log(y / m) / s : ((y / m) ** l - 1) / (l * s);
  if (!restricted || Math.abs(z) <= 3) return z;
  if (z > 3) {
    const sd3 = valueAtSd(lms, 3);
    return 3 + (y - sd3) / (sd3 - valueAtSd(lms, 2));
  }
  const sd3neg = valueAtSd(lms, -3);
  return -3 + (y - sd3neg) / (valueAtSd(lms, -2) - sd3neg);
}
