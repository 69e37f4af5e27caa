// Date.parse, by hand for the one shape the mapping writes and the platform wants (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)):
// Date.parse was the profile rules' most expensive call. Anything else (other lengths, days after the 28th, leap seconds,
// years before 1000, …) goes to Date.parse itself, so the result is Date.parse's in every case
// (tests/validation/parse-datetime.test.ts compares them).
// Not src/mapping/datetime.ts's parseDateTime: that one is the source record's strict grammar (offset required, real offsets
// only, seconds optional, undefined when wrong); this one must say exactly what Date.parse says of any FHIR value.

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000; // a non-digit makes the field negative
};
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1);

/** Date.parse(s), the common shape read by hand. */
export function epochMsOf(s: string): number {
  const n = s.length;
  // 19 characters of date and time, then `.fff` or nothing, then `Z` or `±hh:mm`.
  const frac = n === 24 || n === 29;
  if ((n === 20 || n === 25 || frac) && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && s.charCodeAt(10) === 84 && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58) {
    const year = two(s, 0) * 100 + two(s, 2);
    const month = two(s, 5);
    const day = two(s, 8);
    const hour = two(s, 11);
    const minute = two(s, 14);
    const second = two(s, 17);
    let ms = 0;
    let z = 19;
    if (frac) {
      ms = s.charCodeAt(19) === 46 ? digit(s, 20) * 100 + two(s, 21) : -1;
      z = 23;
    }
    let offsetMin = 0;
    const sign = s.charCodeAt(z);
    let zoneOk = false;
    if (sign === 90 /* Z */) zoneOk = z + 1 === n;
    else if ((sign === 43 || sign === 45) && z + 6 === n && s.charCodeAt(z + 3) === 58) {
      const oh = two(s, z + 1);
      const om = two(s, z + 4);
      zoneOk = oh >= 0 && oh <= 14 && om >= 0 && om <= 59;
      offsetMin = (sign === 45 ? -1 : 1) * (oh * 60 + om);
    }
    if (zoneOk && year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 28 && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && ms >= 0) {
      return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
    }
  }
  return Date.parse(s);
}
