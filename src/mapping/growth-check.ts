// Semantic checks of the growth fields of a source record (measurement `position`, `growth.previousWeighing`, `growth.reported`),
// at the source fields. The schema has checked the shapes; the keys, categories and age limits come from the growth tables.
import type { Issue } from '../validation/outcome.js';
import { isValidDate } from './datetime.js';
import { schemeOf } from '../growth/classify.js';
import { daysBetween, standardAt, undefinedAtAgeMessage, type Indicator } from '../growth/zscores.js';
import type { Params } from '../i18n/index.js';
import type { GrowthTables } from '../growth/tables.js';
import type { VisitRecord } from './types.js';

/** Reports an error at `path` said by catalogue message `key` (which may use `{path}`). */
export type ReportError = (path: string, key: string, params?: Params, code?: Issue['code']) => void;

/** A facility z-score further than this from 0 is a unit or sign slip, not a child. */
export const MAX_REPORTED_Z = 10;

/** Checks the growth fields of `r`, visit on local date `visitDate`; errors go to `err`. */
export function checkGrowthFields(r: VisitRecord, visitDate: string, g: GrowthTables, err: ReportError): void {
  const lengthKeys = g.status.measurements.lengthHeight;
  (r.measurements ?? []).forEach((m, i) => {
    if (m.position !== undefined && !Object.hasOwn(lengthKeys, m.code)) {
      err(`measurements[${i}].position`, 'source.growth.position-only', { codes: Object.keys(lengthKeys).join(', ') });
    }
  });
  const growth = r.growth;
  if (!growth) return;
  const birth = r.patient.birthDate;
  const prev = growth.previousWeighing;
  if (prev) {
    const at = 'growth.previousWeighing.date';
    if (!isValidDate(prev.date)) err(at, 'source.date.not-real');
    else if (prev.date >= visitDate) err(at, 'source.growth.previous-not-before');
    else if (prev.date < birth) err(at, 'source.growth.previous-before-birth');
  }
  const ageDays = daysBetween(birth, visitDate);
  const standard = standardAt(ageDays);
  const seen = new Map<string, number>();
  (growth.reported ?? []).forEach((rep, i) => {
    const at = `growth.reported[${i}]`;
    if (!Object.hasOwn(g.status.indicators, rep.indicator)) {
      err(`${at}.indicator`, 'source.growth.indicator-unknown', { allowed: Object.keys(g.status.indicators).join(', ') }, 'code-invalid');
      return;
    }
    const indicator = rep.indicator as Indicator;
    const first = seen.get(indicator);
    if (first !== undefined) err(`${at}.indicator`, 'source.growth.indicator-repeat', { indicator, first }, 'duplicate');
    else seen.set(indicator, i);
    if (rep.zScore !== undefined && Math.abs(rep.zScore) > MAX_REPORTED_Z) {
      err(`${at}.zScore`, 'source.growth.zscore-range', { max: MAX_REPORTED_Z });
    }
    const undefinedHere = isValidDate(birth) ? undefinedAtAgeMessage(g.who, indicator, ageDays) : undefined;
    if (undefinedHere) {
      const field = rep.zScore !== undefined ? 'zScore' : 'category';
      err(`${at}.${field}`, 'source.growth.not-for-patient', { '@why': undefinedHere.key, ...undefinedHere.params });
      return;
    }
    if (rep.category !== undefined && standard) {
      const scheme = schemeOf(g.status, indicator, standard);
      const keys = scheme?.categories.map((c) => c.key) ?? [];
      if (!keys.includes(rep.category)) {
        if (keys.length) err(`${at}.category`, 'source.growth.category-unknown', { indicator, allowed: keys.join(', ') }, 'code-invalid');
        else err(`${at}.category`, 'source.growth.category-none', { indicator }, 'code-invalid');
      }
    }
  });
}
