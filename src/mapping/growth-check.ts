// Semantic checks of the growth fields of a source record (measurement `position`, `growth.previousWeighing`, `growth.reported`),
// at the source fields. The schema has checked the shapes; the keys, categories and age limits come from the growth tables.
import type { Issue } from '../validation/outcome.js';
import { isValidDate } from './datetime.js';
import { schemeOf } from '../growth/classify.js';
import { daysBetween, standardAt, undefinedAtAge, type Indicator } from '../growth/zscores.js';
import type { GrowthTables } from '../growth/tables.js';
import type { VisitRecord } from './types.js';

export type ReportError = (path: string, text: string, code?: Issue['code']) => void;

/** A facility z-score further than this from 0 is a unit or sign slip, not a child. */
export const MAX_REPORTED_Z = 10;

/** Checks the growth fields of `r`, visit on local date `visitDate`; errors go to `err`. */
export function checkGrowthFields(r: VisitRecord, visitDate: string, g: GrowthTables, err: ReportError): void {
  const lengthKeys = g.status.measurements.lengthHeight;
  (r.measurements ?? []).forEach((m, i) => {
    if (m.position !== undefined && !Object.hasOwn(lengthKeys, m.code)) {
      err(`measurements[${i}].position`, `measurements[${i}].position is only for ${Object.keys(lengthKeys).join(' and ')} (how the length or height was measured)`);
    }
  });
  const growth = r.growth;
  if (!growth) return;
  const birth = r.patient.birthDate;
  const prev = growth.previousWeighing;
  if (prev) {
    const at = 'growth.previousWeighing.date';
    if (!isValidDate(prev.date)) err(at, `${at} is not a real date`);
    else if (prev.date >= visitDate) err(at, `${at} must be before the visit date`);
    else if (prev.date < birth) err(at, `${at} is before patient.birthDate`);
  }
  const ageDays = daysBetween(birth, visitDate);
  const standard = standardAt(ageDays);
  const seen = new Map<string, number>();
  (growth.reported ?? []).forEach((rep, i) => {
    const at = `growth.reported[${i}]`;
    if (!Object.hasOwn(g.status.indicators, rep.indicator)) {
      err(`${at}.indicator`, `${at}.indicator is not a known growth indicator; use one of ${Object.keys(g.status.indicators).join(', ')}`, 'code-invalid');
      return;
    }
    const indicator = rep.indicator as Indicator;
    const first = seen.get(indicator);
    if (first !== undefined) err(`${at}.indicator`, `${at}.indicator repeats ${indicator} of growth.reported[${first}]; send each indicator once`, 'duplicate');
    else seen.set(indicator, i);
    if (rep.zScore !== undefined && Math.abs(rep.zScore) > MAX_REPORTED_Z) {
      err(`${at}.zScore`, `${at}.zScore is outside −${MAX_REPORTED_Z} … +${MAX_REPORTED_Z} SD; check the calculator's output`);
    }
    const undefinedHere = isValidDate(birth) ? undefinedAtAge(g.who, indicator, ageDays) : undefined;
    if (undefinedHere) {
      const field = rep.zScore !== undefined ? 'zScore' : 'category';
      err(`${at}.${field}`, `${at}.${field} cannot be sent for this patient: ${undefinedHere}`);
      return;
    }
    if (rep.category !== undefined && standard) {
      const scheme = schemeOf(g.status, indicator, standard);
      const keys = scheme?.categories.map((c) => c.key) ?? [];
      if (!keys.includes(rep.category)) {
        const allowed = keys.length ? `use one of ${keys.join(', ')}` : `${indicator} has no Permenkes 2/2020 category at this age`;
        err(`${at}.category`, `${at}.category is not a category of ${indicator} for this age; ${allowed}`, 'code-invalid');
      }
    }
  });
}
