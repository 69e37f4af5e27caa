// Weight-gain status of the KMS (Kartu Menuju Sehat): N (naik) when the child gained at least the minimum for its age since last
// month's weighing, T (tidak naik) otherwise; B (first weighing) and O (not weighed last month) cannot be assessed. Pure.
import { renderMessage } from '../i18n/issues.js';
import type { MessageRef } from '../validation/outcome.js';
import { ageInMonths } from '../mapping/datetime.js';
import type { GrowthStatusTable } from './status-table.js';
import { daysBetween } from './zscores.js';

export interface Weighing {
  /** YYYY-MM-DD */
  date: string;
  weightKg: number;
}

export interface WeightGainAssessed {
  status: 'naik' | 'tidak-naik';
  gainGrams: number;
  minimumGainGrams: number;
  /** Completed months at this weighing: the row of the KMS table used. */
  ageMonths: number;
  intervalDays: number;
  /** In words (English): the rule and numbers used, for the Observation note and for operators. */
  basis: string;
  /** The basis as a catalogue message (messages/source.json, growth.gain.basis), said in the reader's language at the edge. */
  basisMessage: MessageRef;
}

export interface WeightGainNotAssessable {
  status: 'not-assessable';
  /** B first weighing, O previous weighing not in the previous calendar month, or outside the table's ages / dates out of order. */
  kms?: 'B' | 'O';
  /** In English (`reasonMessage` rendered). */
  reason: string;
  /** The reason as a catalogue message (messages/source.json, growth.gain.*), said in the reader's language at the edge. */
  reasonMessage: MessageRef;
}

const notAssessable = (key: string, params: MessageRef['params'] = {}, kms?: 'B' | 'O'): WeightGainNotAssessable =>
  ({ status: 'not-assessable', ...(kms ? { kms } : {}), reason: renderMessage('en', key, params), reasonMessage: { key, params } });

export type WeightGainResult = WeightGainAssessed | WeightGainNotAssessable;

const monthIndex = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));

/**
 * Where a previous weighing came from, said in the basis: a catalogue message (source.growth.gain.from.*), or a text
 * already worded (said as is in every language).
 */
export type WeighingSource = MessageRef | string;

/** Weight-gain status at `current` from the previous weighing; `previousFrom` says where the previous weighing came from. */
export function weightGainStatus(
  t: GrowthStatusTable, birthDate: string, current: Weighing, previous: Weighing | undefined,
  previousFrom: WeighingSource = { key: 'source.growth.gain.from.record', params: {} },
): WeightGainResult {
  if (!previous) return notAssessable('source.growth.gain.first', {}, 'B');
  const intervalDays = daysBetween(previous.date, current.date);
  if (!(intervalDays > 0)) return notAssessable('source.growth.gain.out-of-order');
  // The KMS compares consecutive monthly weighings (Posyandu day of the month), not a number of days.
  if (monthIndex(current.date) - monthIndex(previous.date) !== 1) {
    return notAssessable('source.growth.gain.not-consecutive', { date: previous.date }, 'O');
  }
  const wg = t.weightGain;
  const ageMonths = ageInMonths(birthDate, current.date);
  const table = wg.minimumGainGrams;
  if (ageMonths < table[0][0] || ageMonths > wg.toMonths) {
    return notAssessable('source.growth.gain.out-of-ages', { from: table[0][0], to: wg.toMonths, months: ageMonths });
  }
  let minimumGainGrams = table[0][1];
  for (const [m, g] of table) if (ageMonths >= m) minimumGainGrams = g;
  const gainGrams = Math.round((current.weightKg - previous.weightKg) * 1000);
  const status = gainGrams >= minimumGainGrams ? 'naik' : 'tidak-naik';
  const from: MessageRef['params'] = typeof previousFrom === 'string' ? { from: previousFrom } : { ...previousFrom.params, '@from': previousFrom.key };
  const basisMessage: MessageRef = {
    key: 'source.growth.gain.basis',
    params: { months: ageMonths, minimum: minimumGainGrams, gained: gainGrams, days: intervalDays, date: previous.date, ...from },
  };
  const basis = renderMessage('en', basisMessage.key, basisMessage.params);
  return { status, gainGrams, minimumGainGrams, ageMonths, intervalDays, basis, basisMessage };
}
