// Rejections: a record refused at push is kept as an entry (facility, visitId when well-formed, when, the issues at
// source fields as the push answer carried them), never its content, for REJECTIONS_RETENTION_DAYS; listed page by page.
import type { RejectionEntry, RejectionIssue, RejectionListFilter, Store, StoredRejection } from '../store/types.js';
import { isWellFormedVisitId } from '../util/visit-id.js';
import { decodeCursor, instant, onlyKnown, pageOf, pageSize, QueryParameterError, visitIdPrefix, type Page, type RawParams } from './params.js';
import { scopedOrganization, type QueryDeps, type Scope } from './visits.js';
import { iso } from './visit-view.js';
import { DEFAULT_LOCALE, type Locale } from '../i18n/index.js';
import { issueText } from '../i18n/issues.js';

export const DAY_MS = 86_400_000;
/** Old entries deleted per purge call: bounded work inside a push or a sync tick; a backlog goes over a few calls. */
export const PURGE_BATCH = 500;
/** Issues kept per rejected record (a record with hundreds of issues keeps the first ones; the push answer had them all). */
export const MAX_ISSUES_KEPT = 50;

/** A rejection entry for one refused record; undefined when it names no organization to file it under. */
export function rejectionEntry(organizationId: string | undefined, visitId: unknown, at: number,
  issues: readonly RejectionIssue[]): RejectionEntry | undefined {
  if (!organizationId) return undefined;
  const kept: RejectionIssue[] = issues.slice(0, MAX_ISSUES_KEPT).map((i) => ({
    severity: i.severity, code: i.code, ...(i.expression ? { expression: i.expression } : {}), ...(i.diagnostics ? { diagnostics: i.diagnostics } : {}),
    ...(i.message ? { message: i.message } : {}),
  }));
  return { organizationId, ...(isWellFormedVisitId(visitId) ? { visitId } : {}), at, issues: kept };
}

/** Keeps the entries and purges (a bounded number of) entries older than the retention. */
export async function recordRejections(store: Store, entries: RejectionEntry[], now: number, retentionDays: number): Promise<void> {
  if (entries.length) await store.addRejections(entries);
  await purgeRejections(store, now, retentionDays);
}

export const purgeRejections = (store: Store, now: number, retentionDays: number): Promise<number> =>
  store.purgeRejections(now - retentionDays * DAY_MS, PURGE_BATCH);

export const REJECTION_LIST_PARAMETERS = ['since', 'until', 'q', '_count', 'cursor', 'organization'] as const;
const CURSOR_KIND = 'rejections';

export interface RejectionListItem {
  organizationId: string;
  visitId?: string;
  at: string;
  issues: RejectionIssue[];
}

export function rejectionListFilter(scope: Scope, params: RawParams): RejectionListFilter {
  onlyKnown(params, REJECTION_LIST_PARAMETERS);
  const organizationId = scopedOrganization(scope, params);
  const since = instant(params, 'since');
  const until = instant(params, 'until', true);
  if (since !== undefined && until !== undefined && until <= since) throw new QueryParameterError('until', 'param.after', { other: 'since' });
  const q = visitIdPrefix(params);
  const position = decodeCursor(params, CURSOR_KIND, ['int', 'int']);
  return {
    limit: pageSize(params),
    ...(organizationId !== undefined ? { organizationId } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(q !== undefined ? { visitIdPrefix: q } : {}),
    ...(position ? { after: { at: position[0] as number, id: position[1] as number } } : {}),
  };
}

/** An issue as a list shows it: its text in `locale` (older rows without a message keep their stored text), no message state. */
const shownIssue = (locale: Locale) => ({ message, ...rest }: RejectionIssue): RejectionIssue =>
  (message ? { ...rest, diagnostics: issueText({ ...rest, message }, locale)! } : rest);

const itemIn = (locale: Locale) => (r: StoredRejection): RejectionListItem => ({
  organizationId: r.organizationId, ...(r.visitId !== undefined ? { visitId: r.visitId } : {}), at: iso(r.at)!, issues: r.issues.map(shownIssue(locale)),
});

/** A page of rejections, newest first, their issues said in `locale`. */
export async function listRejections(deps: QueryDeps, scope: Scope, params: RawParams, locale: Locale = DEFAULT_LOCALE): Promise<Page<RejectionListItem>> {
  const filter = rejectionListFilter(scope, params);
  const rows = await deps.store.listRejections({ ...filter, limit: filter.limit + 1 });
  return pageOf(rows, filter.limit, CURSOR_KIND, (r) => [r.at, r.id], itemIn(locale));
}
