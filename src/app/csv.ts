// CSV export of the operators' lists (API `Accept: text/csv` / `?_format=csv`, CLI `--format csv`): RFC 4180 (CRLF line
// ends, fields with a comma, quote, CR or LF quoted, quotes doubled), one header row of contract field names, and safe
// to open in a spreadsheet: a cell starting with = + - @ (or a tab / CR, which spreadsheets strip before evaluating) is
// prefixed with ' so it is shown as text, never run as a formula.
import type { VisitState } from '../store/types.js';
import type { FacilityOverview } from './facilities.js';
import type { RejectionListItem } from './rejections.js';
import type { VisitListItem } from './visits.js';
import { VISIT_STATES } from './params.js';

export interface Column<T> {
  /** Header (a contract field name) and catalogue key `column.<key>` of the table title. */
  key: string;
  value: (row: T) => string | number | undefined;
}

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const line = (cells: (string | number | undefined)[]) => `${cells.map(csvCell).join(',')}\r\n`;
  return line(columns.map((c) => c.key)) + rows.map((r) => line(columns.map((c) => c.value(r)))).join('');
}

const field = <T>(key: keyof T & string): Column<T> => ({ key, value: (r) => r[key] as string | number | undefined });

export const VISIT_COLUMNS: readonly Column<VisitListItem>[] = (
  ['organizationId', 'visitId', 'revision', 'state', 'attempts', 'nextAttemptAt', 'updatedAt', 'setting', 'locationCode', 'visitStart', 'explanation'] as const
).map((k) => field<VisitListItem>(k));

/** One issue as text: `expression: code: diagnostics`, issues separated by " | ". */
const issuesText = (r: RejectionListItem) => r.issues.map((i) => [i.expression?.join(', '), i.code, i.diagnostics].filter(Boolean).join(': ')).join(' | ');

export const REJECTION_COLUMNS: readonly Column<RejectionListItem>[] = [
  field<RejectionListItem>('organizationId'), field<RejectionListItem>('visitId'), field<RejectionListItem>('at'), { key: 'issues', value: issuesText },
];

const count = (state: VisitState): Column<FacilityOverview> => ({ key: state, value: (f) => f.counts[state] });

export const FACILITY_COLUMNS: readonly Column<FacilityOverview>[] = [
  field<FacilityOverview>('organizationId'),
  { key: 'name', value: (f) => (typeof f.name === 'string' ? f.name : undefined) },
  field<FacilityOverview>('status'),
  ...VISIT_STATES.map(count),
  field<FacilityOverview>('oldestWaitingSince'),
  field<FacilityOverview>('lastSentAt'),
  { key: 'quotaLastHour', value: (f) => (f.quotaLastHour ? `${f.quotaLastHour.requests}/${f.quotaLastHour.capacity}` : undefined) },
  field<FacilityOverview>('explanation'),
];
