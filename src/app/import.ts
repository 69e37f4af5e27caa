// Use case: import a spreadsheet of visits (CLI `ilp-adapter import`, later the console's upload). Rows are read one at a
// time, turned into visit records by the template table, put through the same checks as POST /ilp/visits
// (src/app/ingest.ts) and committed in bounded batches, each in one store transaction. A rejected row stores nothing;
// its problems are reported at row and column in the operator's language. Memory stays constant: only a batch is held.
import type { IngestItem, RejectionEntry, Store } from '../store/types.js';
import { messages, type Locale } from '../i18n/index.js';
import { checkRecord, commitAccepted, NOT_DELIVERED_HERE, type IngestCheckDeps } from './ingest.js';
import { recordRejections, rejectionEntry } from './rejections.js';
import { DEFAULT_REJECTIONS_RETENTION_DAYS } from '../config/service.js';
import { isBlankRow, resolveHeader, rowToRecord, type CellProblem, type HeaderMap, type ImportTemplate } from './import-template.js';
import { ImportFileError, sheetRows, type SheetFormat, type SheetRow } from './import-readers.js';
import type { Issue } from '../validation/outcome.js';
import { issueText, messageIssue, renderMessage } from '../i18n/issues.js';

export { ImportFileError } from './import-readers.js';

const text = messages('import');

export const DEFAULT_BATCH_SIZE = 500;

export interface ImportDeps extends IngestCheckDeps {
  store: Store;
  now: () => Date;
  /** Keys the derived visitIds (the service's identity HMAC key), so that a visitId shows and leaks no NIK. */
  idKey: Buffer;
  rejectionsRetentionDays?: number;
}

export interface ImportOptions {
  organizationId: string;
  template: ImportTemplate;
  /** The facility's IANA time zone (Asia/Makassar …); absent ⇒ the template's default offset (WIB). */
  timeZone?: string;
  locale: Locale;
  /** Check every row, store nothing. */
  dryRun?: boolean;
  batchSize?: number;
  /** One problem of a rejected row, in operator words (`baris 14, kolom BB: …`). Called as rows are read. */
  onRowError?: (error: RowError) => void;
  /** After each committed batch (and at the end). */
  onProgress?: (summary: Readonly<ImportSummary>) => void;
}

export interface RowError {
  row: number;
  column?: string;
  kind: string;
  message: string;
}

export interface ImportSummary {
  read: number;
  /** Rows that passed every check (in a dry run: would be imported). */
  accepted: number;
  created: number;
  revised: number;
  unchanged: number;
  rejected: number;
  errorsByKind: Record<string, number>;
  /** Columns the template knows but does not import (e.g. Vitamin A), and columns it does not know. */
  notImportedColumns: string[];
  unknownColumns: string[];
  dryRun: boolean;
}

/** The operator's text of a problem at a row; a record-check issue is said in `locale` too (its message, else its text). */
export function problemText(locale: Locale, row: number, p: CellProblem): string {
  const problem = p.diagnostics !== undefined
    ? text(locale, p.kind, { diagnostics: issueText({ diagnostics: p.diagnostics, ...(p.message ? { message: p.message } : {}) }, locale)! })
    : text(locale, p.kind, p.params ?? {});
  return p.column !== undefined ? text(locale, 'at.row-column', { row, column: p.column, problem }) : text(locale, 'at.row', { row, problem });
}

/** A cell or row problem as an issue of a rejection entry (said again in the reader's language when listed). */
function rowIssue(row: number, p: CellProblem): Issue {
  const problem = { '@problem': `import.${p.kind}`, ...p.params };
  return p.column !== undefined
    ? messageIssue('error', 'value', 'import.at.row-column', { row, column: p.column, ...problem })
    : messageIssue('error', 'value', 'import.at.row', { row, ...problem });
}

/** Record-check issues → problems at the file's columns. */
function recordProblems(issues: Issue[], columnOf: (expression: string) => string | undefined): CellProblem[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => {
    const column = i.expression?.map(columnOf).find((c) => c !== undefined);
    const kind = i.message?.key === NOT_DELIVERED_HERE ? 'row.organization'
      : i.expression?.includes('locationCode') && i.code === 'code-invalid' ? 'row.location' : 'row.record';
    return { kind, ...(column ? { column } : {}), ...(kind === 'row.record' ? { diagnostics: i.diagnostics ?? i.code, ...(i.message ? { message: i.message } : {}) } : {}) };
  });
}

/** Imports rows (the first non-blank row is the header). Throws ImportFileError when the sheet is unusable. */
export async function importRows(rows: AsyncIterable<SheetRow>, deps: ImportDeps, opts: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = {
    read: 0, accepted: 0, created: 0, revised: 0, unchanged: 0, rejected: 0, errorsByKind: {},
    notImportedColumns: [], unknownColumns: [], dryRun: !!opts.dryRun,
  };
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const retention = deps.rejectionsRetentionDays ?? DEFAULT_REJECTIONS_RETENTION_DAYS;
  let header: HeaderMap | undefined;
  let items: IngestItem[] = [];
  let rejections: RejectionEntry[] = [];
  const kinds = new Map<string, number>();
  // visitId → first row: ~100 bytes a row (5 MB for 50,000), the one thing that grows with the file.
  const firstRowOf = new Map<string, number>();

  const flush = async () => {
    const now = deps.now();
    if (!opts.dryRun) {
      for (const status of await commitAccepted(deps.store, items, now)) summary[status]++;
      // Kept like a push's refusals (their issues, never the content); losing them must not stop the import.
      try {
        if (rejections.length) await recordRejections(deps.store, rejections, now.getTime(), retention);
      } catch (err) {
        deps.logger?.error({ err: { name: (err as Error)?.name }, rejections: rejections.length }, 'could not keep rejection entries');
      }
    }
    items = [];
    rejections = [];
    summary.errorsByKind = Object.fromEntries(kinds);
    opts.onProgress?.(summary);
  };
  const reject = (row: number, problems: CellProblem[], issues: Issue[], visitId?: string) => {
    summary.rejected++;
    for (const p of problems) {
      kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
      opts.onRowError?.({ row, ...(p.column ? { column: p.column } : {}), kind: p.kind, message: problemText(opts.locale, row, p) });
    }
    const entry = rejectionEntry(opts.organizationId, visitId, deps.now().getTime(), issues.length ? issues : problems.map((p) => rowIssue(row, p)));
    if (entry) rejections.push(entry);
  };

  for await (const { row, cells } of rows) {
    if (isBlankRow(cells)) continue;
    if (!header) {
      const h = resolveHeader(opts.template, cells);
      if ('kind' in h) throw new ImportFileError(h.kind, h.params);
      header = h;
      summary.notImportedColumns = h.notImported;
      summary.unknownColumns = h.unknown;
      continue;
    }
    summary.read++;
    const converted = rowToRecord(opts.template, header, cells, { organizationId: opts.organizationId, idKey: deps.idKey, ...(opts.timeZone ? { timeZone: opts.timeZone } : {}) });
    const visitId = converted.status === 'record' ? (converted.record.visitId as string) : undefined;
    const earlier = visitId === undefined ? undefined : firstRowOf.get(visitId);
    // A rejection names the visit the row would be whenever its id can be derived, so the facility finds it by visitId.
    if (converted.status === 'problems') {
      reject(row, converted.problems, [], converted.visitId);
    } else if (earlier !== undefined) {
      // Same child, same date twice in one file: the later row would silently overwrite the earlier one.
      reject(row, [{ kind: 'row.duplicate', params: { other: earlier } }], [], visitId);
    } else {
      firstRowOf.set(visitId!, row);
      const checked = checkRecord(converted.record, deps, deps.now());
      if (checked.status === 'rejected') reject(row, recordProblems(checked.issues, converted.columnOf), checked.issues, checked.ids.visitId);
      else {
        summary.accepted++;
        items.push(checked.item);
      }
    }
    if (items.length + rejections.length >= batchSize) await flush();
  }
  if (!header) throw new ImportFileError('file.no-header');
  await flush();
  return summary;
}

/** Imports a CSV or XLSX file. */
export function importFile(file: string, format: SheetFormat, deps: ImportDeps, opts: ImportOptions): Promise<ImportSummary> {
  return importRows(sheetRows(file, format), deps, opts);
}

/** The summary as lines of operator text. */
export function summaryLines(s: ImportSummary, locale: Locale): string[] {
  const lines = [text(locale, s.dryRun ? 'summary.dry-run' : 'summary.done', { read: s.read, accepted: s.accepted, created: s.created, revised: s.revised, unchanged: s.unchanged, rejected: s.rejected })];
  for (const [kind, count] of Object.entries(s.errorsByKind).sort((a, b) => b[1] - a[1])) {
    lines.push(text(locale, 'summary.kind', { kind: text(locale, `kind.${kind}`), count }));
  }
  if (s.notImportedColumns.length) lines.push(text(locale, 'summary.not-imported', { columns: s.notImportedColumns.join(', ') }));
  if (s.unknownColumns.length) lines.push(text(locale, 'summary.unknown', { columns: s.unknownColumns.join(', ') }));
  return lines;
}

/** The text of an unusable-file stop. */
// renderMessage: a parameter may name a fragment message (`@reason`), said in the same language.
export const fileErrorText = (locale: Locale, e: ImportFileError): string => renderMessage(locale, `import.${e.why}`, e.params);
