// Use cases on visit records shared by the HTTP API and the CLI: the list an operator filters and pages through,
// one record's view, and the operator's requeue. Callers say whose visits may be seen (`scope`), never the other way round.
import type { FacilityState, Store, VisitEvent, VisitListFilter, VisitRow, VisitState, VisitSummary } from '../store/types.js';
import { DEFAULT_LOCALE, type Locale } from '../i18n/index.js';
import { explainState, iso, visitView } from './visit-view.js';
import { summarise, summaryOf } from '../store/shared.js';
import { issueText, localizeOutcome } from '../i18n/issues.js';
import { messageOfExtension } from '../validation/outcome.js';
import {
  decodeCursor, instant, onlyKnown, pageOf, pageSize, QueryParameterError, states, token, visitIdPrefix, type Page, type RawParams,
} from './params.js';

export type { Page } from './params.js';

export interface QueryDeps {
  store: Store;
  /** Epoch ms. */
  now: () => number;
}

/** Whose records a caller may see: one organization, or every one (admin). */
export type Scope = { organizationId: string } | { all: true };

export const VISIT_LIST_PARAMETERS = ['state', 'setting', 'locationCode', 'from', 'to', 'updatedSince', 'q', '_count', 'cursor', 'organization'] as const;
const CURSOR_KIND = 'visits';

/** One row of the list as callers show it: never the record, so never a NIK or a name. */
export interface VisitListItem {
  organizationId: string;
  visitId: string;
  revision: number;
  state: VisitState;
  explanation: string;
  attempts: number;
  nextAttemptAt?: string;
  updatedAt: string;
  setting?: string;
  locationCode?: string;
  visitStart?: string;
}

/** The organization filter the scope allows: a facility asking for another organization is refused at `organization`. */
export function scopedOrganization(scope: Scope, params: RawParams): string | undefined {
  const asked = token(params, 'organization');
  if ('organizationId' in scope) {
    if (asked !== undefined && asked !== scope.organizationId) {
      throw new QueryParameterError('organization', 'param.own-organization', {}, 403);
    }
    return scope.organizationId;
  }
  return asked;
}

/** The store filter of a visit list request (every bad parameter is a QueryParameterError). */
export function visitListFilter(scope: Scope, params: RawParams): VisitListFilter {
  onlyKnown(params, VISIT_LIST_PARAMETERS);
  const organizationId = scopedOrganization(scope, params);
  const from = instant(params, 'from');
  const to = instant(params, 'to', true);
  if (from !== undefined && to !== undefined && to <= from) throw new QueryParameterError('to', 'param.after', { other: 'from' });
  const position = decodeCursor(params, CURSOR_KIND, ['int', 'id', 'id']);
  const filter: VisitListFilter = { limit: pageSize(params) };
  const set = <K extends keyof VisitListFilter>(k: K, v: VisitListFilter[K] | undefined) => {
    if (v !== undefined) filter[k] = v;
  };
  set('organizationId', organizationId);
  set('states', states(params));
  set('setting', token(params, 'setting'));
  set('locationCode', token(params, 'locationCode'));
  set('from', from);
  set('to', to);
  set('updatedSince', instant(params, 'updatedSince'));
  set('visitIdPrefix', visitIdPrefix(params));
  if (position) filter.after = { updatedAt: position[0] as number, organizationId: position[1] as string, visitId: position[2] as string };
  return filter;
}

/** Each facility's state of these rows, read once per page (the explanation of a queued visit depends on it). */
async function facilityStates(store: Store, rows: readonly VisitSummary[]): Promise<Map<string, FacilityState | undefined>> {
  const seen = new Map<string, FacilityState | undefined>();
  for (const r of rows) if (!seen.has(r.organizationId)) seen.set(r.organizationId, await store.getFacilityState(r.organizationId));
  return seen;
}

function listItem(v: VisitSummary, facility: FacilityState | undefined, now: number, locale: Locale): VisitListItem {
  return {
    organizationId: v.organizationId,
    visitId: v.visitId,
    revision: v.revision,
    state: v.state,
    explanation: explainState(v.state, { state: facility, now }, locale).text,
    attempts: v.attempts,
    ...(v.state === 'queued' ? { nextAttemptAt: iso(v.nextAttemptAt)! } : {}),
    updatedAt: iso(v.updatedAt)!,
    ...(v.setting !== undefined ? { setting: v.setting } : {}),
    ...(v.locationCode !== undefined ? { locationCode: v.locationCode } : {}),
    ...(v.visitStart !== undefined ? { visitStart: iso(v.visitStart)! } : {}),
  };
}

/** A page of visits, newest change first, with a cursor when more may follow. */
export async function listVisits(deps: QueryDeps, scope: Scope, params: RawParams, locale: Locale = DEFAULT_LOCALE): Promise<Page<VisitListItem>> {
  const filter = visitListFilter(scope, params);
  const rows = await deps.store.listVisits({ ...filter, limit: filter.limit + 1 });
  const states = await facilityStates(deps.store, rows.slice(0, filter.limit));
  const now = deps.now();
  return pageOf(rows, filter.limit, CURSOR_KIND, (v) => [v.updatedAt, v.organizationId, v.visitId], (v) => listItem(v, states.get(v.organizationId), now, locale));
}

const visible = (scope: Scope, org: string): boolean => !('organizationId' in scope) || scope.organizationId === org;

/**
 * How a history entry's error summary is said in `locale`. An entry keeps its issues with their catalogue messages
 * (`errorIssues`) and is said again from them. An entry written before they were kept has its English summary only: the
 * one whose summary is that of the visit's current lastError (which keeps its message keys) is said from it, the others
 * stay as stored.
 */
function historyErrorSayer(row: VisitRow, locale: Locale): (event: VisitEvent) => string | undefined {
  if (locale === 'en') return (event) => event.error;
  const current = row.lastError && summarise(row.lastError);
  let said: string | null | undefined;
  return (event) => {
    if (event.error === undefined) return undefined;
    if (event.errorIssues) {
      return summaryOf(event.errorIssues.map((i) => {
        const message = messageOfExtension(i.extension);
        return { severity: i.severity, code: i.code, text: (message && issueText({ diagnostics: i.text, message }, locale)) ?? i.text };
      }));
    }
    if (event.error !== current) return event.error;
    said ??= summarise(localizeOutcome(row.lastError!, locale));
    return said ?? event.error;
  };
}

/**
 * One visit with its history; `withRecord` adds what the facility sent (it holds NIKs and names: only ever for the
 * facility's own key). Undefined when the caller may not see it or it does not exist (the same answer, so no probing).
 */
export async function showVisit(deps: QueryDeps, scope: Scope, org: string, visitId: string, opts: { locale?: Locale; withRecord?: boolean } = {}):
  Promise<Record<string, unknown> | undefined> {
  const row: VisitRow | undefined = visible(scope, org) ? await deps.store.getVisit(org, visitId) : undefined;
  if (!row) return undefined;
  const locale = opts.locale ?? DEFAULT_LOCALE;
  const sayError = historyErrorSayer(row, locale);
  const history = (await deps.store.visitHistory?.(org, visitId))?.map((event) => {
    // errorIssues is how an entry is said, not part of the view.
    const { errorIssues: _said, ...h } = event;
    return { ...h, at: iso(h.at), ...(h.error !== undefined ? { error: sayError(event)! } : {}) };
  });
  const view = visitView(row, history, { state: await deps.store.getFacilityState(org), now: deps.now() }, locale);
  if (opts.withRecord && 'organizationId' in scope && scope.organizationId === org && row.record !== undefined) view.record = row.record;
  return view;
}

export type RequeueResult =
  | { status: 'requeued'; previousState: VisitState }
  | { status: 'not-found' }
  | { status: 'not-final'; state: VisitState };

/** Puts a blocked / needs-correction / dead-letter visit back in the queue (operator action). */
export async function requeueVisit(deps: QueryDeps, scope: Scope, org: string, visitId: string): Promise<RequeueResult> {
  const row = visible(scope, org) ? await deps.store.getVisit(org, visitId) : undefined;
  if (!row) return { status: 'not-found' };
  if (!(await deps.store.requeue(org, visitId, deps.now()))) return { status: 'not-final', state: row.state };
  return { status: 'requeued', previousState: row.state };
}
