// Ingest and status of ILP visit records.
//
// POST /ilp/visits — one record (JSON object) or a batch (JSON array, at most `maxRecords`, default 500).
//   Each record is checked, dry-mapped and validated exactly like POST /ilp/visits/$map. Accepted records are committed
//   to the outbox in ONE store transaction before the response; a rejected record stores nothing.
//   - object:  202 {organizationId, visitId, id, status: created|revised|unchanged}  |  422 OperationOutcome (source fields)
//   - array:   202 all accepted, 207 some rejected, 422 none accepted. Body {accepted, rejected, results: [{index,
//              organizationId, visitId, id?, status: created|revised|unchanged|rejected, outcome?}]}. Expressions in a
//              rejected record's outcome are prefixed with its index, e.g. `[3].measurements[0].unit`.
//   - a record whose organizationId is not the key's: 403 for the whole request (nothing stored).
//   - per-facility quotas (ingest-quota.ts): over INGEST_RECORDS_PER_MINUTE or INGEST_MAX_QUEUED_PER_FACILITY ⇒ 429
//     with Retry-After for the whole request (nothing stored); a batch larger than the per-minute limit ⇒ 413.
//   Idempotent on (organizationId, visitId): same canonical content ⇒ `unchanged`, changed content ⇒ `revised`.
// GET /ilp/visits/{organizationId}/{visitId} — the record's sync state (a visitId's '/' as %2F or raw). Another facility's record answers 404
//   exactly like a missing one, so a key cannot probe which visits exist elsewhere.
import { Router, type Request, type Response } from 'express';
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem, RejectionEntry, Store } from '../store/types.js';
import { DEFAULT_REJECTIONS_RETENTION_DAYS } from '../config/service.js';
import { recordRejections, rejectionEntry } from '../app/rejections.js';
import { toOperationOutcome, type Issue } from '../validation/outcome.js';
import { localizeIssues, messageIssue } from '../i18n/issues.js';
import type { Logger } from '../util/logger.js';
import type { IngestMetricsHook } from '../util/metrics.js';
import { checkRecord, commitAccepted, type IngestCheckDeps } from '../app/ingest.js';
import { apiError, methodNotAllowed, requestLocale, sendOutcome } from './errors.js';
import type { IngestQuota, QuotaRefusal } from './ingest-quota.js';
import { authenticate, mayAccess, principalOf, type AuthDeps } from './auth.js';
import { localeOf, scopeOf, visitIdOf, visitListHandler, VISIT_ID_SEGMENTS } from './queries.js';
import { showVisit } from '../app/visits.js';
import { Serial } from '../util/serial.js';

export const DEFAULT_MAX_RECORDS = 500;

/** The ingest checks' dependencies (validator, mapper, organizations, locations, weighingOf: src/app/ingest.ts) and the router's. */
export interface VisitsRouterDeps extends AuthDeps, IngestCheckDeps {
  store: Store;
  clock: () => Date;
  logger: Logger;
  maxRecords?: number;
  /** Called after new work was committed (created/revised), e.g. to start a sync run soon. */
  onIngest?: () => void;
  /** Prometheus hook: one report per record (created/revised/unchanged/rejected); optional. */
  metrics?: IngestMetricsHook;
  /** Per-facility records per minute and cap on records waiting for delivery; absent ⇒ unlimited. */
  quota?: IngestQuota;
  /** Days a refused record is kept as a rejection entry (its issues, not its content); default 30. */
  rejectionsRetentionDays?: number;
}

type RecordResult =
  | { index: number; organizationId?: string; visitId?: string; status: 'rejected'; outcome: OperationOutcome }
  | { index: number; organizationId: string; visitId: string; id: string; status: 'created' | 'revised' | 'unchanged' };

export const visitPath = (org: string, visitId: string) => `/ilp/visits/${encodeURIComponent(org)}/${encodeURIComponent(visitId)}`;

export { facilityHoldText, visitView } from '../app/visit-view.js';

function prefixed(issues: Issue[], index: number | undefined): OperationOutcome {
  return toOperationOutcome(
    index === undefined ? issues : issues.map((i) => (i.expression ? { ...i, expression: i.expression.map((e) => `[${index}].${e}`) } : { ...i, expression: [`[${index}]`] })),
  );
}

/** Records of a push per facility: a record without a usable organizationId counts for the key's own facility. */
function recordsByOrganization(records: unknown[], keyOrg: string | undefined): Map<string, number> {
  const byOrg = new Map<string, number>();
  for (const r of records) {
    const given = r && typeof r === 'object' ? (r as Record<string, unknown>).organizationId : undefined;
    const org = typeof given === 'string' ? given : keyOrg;
    if (org !== undefined) byOrg.set(org, (byOrg.get(org) ?? 0) + 1);
  }
  return byOrg;
}

function refuse(res: Response, refusal: QuotaRefusal): void {
  if (refusal.retryAfterSeconds !== undefined) res.set('Retry-After', String(refusal.retryAfterSeconds));
  sendOutcome(res, refusal.status, [messageIssue('error', refusal.status === 429 ? 'throttled' : 'too-costly', refusal.message.key, refusal.message.params)]);
}

export function visitsRouter(deps: VisitsRouterDeps): Router {
  const router = Router();
  const maxRecords = deps.maxRecords ?? DEFAULT_MAX_RECORDS;
  const auth = authenticate(deps);

  const retentionDays = deps.rejectionsRetentionDays ?? DEFAULT_REJECTIONS_RETENTION_DAYS;
  const admission = new Serial();
  // The push answer already told the facility why; failing to keep the entry must not turn that answer into an error.
  const keepRejections = async (entries: RejectionEntry[], at: number) => {
    if (!entries.length) return;
    try {
      await recordRejections(deps.store, entries, at, retentionDays);
    } catch (err) {
      deps.logger.error({ err: { name: (err as Error)?.name, code: (err as { code?: string })?.code }, rejections: entries.length }, 'could not keep rejection entries');
    }
  };

  const ingest = async (req: Request, res: Response): Promise<void> => {
    const principal = principalOf(res);
    const body: unknown = req.body;
    if (body === undefined) throw apiError(400, 'required', 'visits.no-body');
    const single = !Array.isArray(body);
    const records: unknown[] = single ? [body] : (body as unknown[]);
    if (!records.length) throw apiError(400, 'required', 'visits.empty');
    if (records.length > maxRecords) {
      throw apiError(413, 'too-costly', 'visits.too-many', { max: maxRecords, count: records.length });
    }

    // Isolation first: a key pushing another facility's record is refused as a whole, before any work.
    records.forEach((r, i) => {
      const org = r && typeof r === 'object' ? (r as Record<string, unknown>).organizationId : undefined;
      if (typeof org === 'string' && !mayAccess(principal, org)) {
        throw single ? apiError(403, 'forbidden', 'visits.other-org', {}, 'organizationId') : apiError(403, 'forbidden', 'visits.other-org-at', { index: i }, `[${i}].organizationId`);
      }
    });

    const quota = deps.quota;
    const byOrg = quota && recordsByOrganization(records, principal.organizationId ?? undefined);
    if (quota && byOrg) {
      const overRate = await quota.takeRate(byOrg);
      if (overRate) return refuse(res, overRate);
    }

    const now = deps.clock();
    // Said in the caller's language (Accept-Language, default id); the rejection entry keeps the messages for later lists.
    const locale = requestLocale(req);
    const results: RecordResult[] = [];
    const items: IngestItem[] = [];
    const accepted: number[] = [];
    const rejections: RejectionEntry[] = [];
    const reject = (index: number, ids: { organizationId?: string; visitId?: string }, issues: Issue[]) => {
      results.push({ index, ...ids, status: 'rejected', outcome: prefixed(localizeIssues(issues, locale), single ? undefined : index) });
      const entry = rejectionEntry(ids.organizationId ?? principal.organizationId ?? undefined, ids.visitId, now.getTime(), issues);
      if (entry) rejections.push(entry);
    };
    // The cap's count and the store write run as one section, so concurrent pushes cannot both slip under the cap.
    const overCap = await admission.run(async (): Promise<QuotaRefusal | undefined> => {
      if (quota && byOrg) {
        const refusal = await quota.checkQueued(byOrg);
        if (refusal) return refusal;
      }
      records.forEach((raw, index) => {
        const checked = checkRecord(raw, deps, now);
        if (checked.status === 'rejected') {
          reject(index, checked.ids, checked.issues);
          return;
        }
        const { item } = checked;
        items.push(item);
        accepted.push(results.length);
        results.push({ index, organizationId: item.organizationId, visitId: item.visitId, id: `${item.organizationId}/${item.visitId}`, status: 'created' });
      });

      // Durable before we answer: one transaction for the whole accepted set.
      (await commitAccepted(deps.store, items, now)).forEach((s, k) => {
        const r = results[accepted[k]!]!;
        if (r.status !== 'rejected') r.status = s;
      });
      return undefined;
    });
    if (overCap) {
      quota?.giveBack(byOrg!).catch((err: unknown) => deps.logger.error({ err }, 'could not return ingest quota points'));
      deps.logger.warn({ org: principal.organizationId ?? 'admin', records: records.length }, 'push refused: facility queue cap reached');
      return refuse(res, overCap);
    }
    await keepRejections(rejections, now.getTime());
    if (results.some((r) => r.status === 'created' || r.status === 'revised')) deps.onIngest?.();
    if (deps.metrics) for (const r of results) deps.metrics.ingestRecord(r.organizationId, r.status);
    const rejected = results.filter((r) => r.status === 'rejected').length;
    deps.logger.info({ org: principal.organizationId ?? 'admin', accepted: items.length, rejected }, 'visits ingested');

    if (single) {
      const r = results[0]!;
      res.vary('Accept-Language');
      if (r.status === 'rejected') {
        res.status(422).type('application/fhir+json').send(JSON.stringify(r.outcome));
        return;
      }
      res.status(202).location(visitPath(r.organizationId, r.visitId)).json({ organizationId: r.organizationId, visitId: r.visitId, id: r.id, status: r.status, location: visitPath(r.organizationId, r.visitId) });
      return;
    }
    res.vary('Accept-Language');
    if (items.length === 0) {
      // Every record failed: one OperationOutcome with every issue, each expression prefixed by its record index.
      res.status(422).type('application/fhir+json').send(JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: results.flatMap((r) => (r.status === 'rejected' ? r.outcome.issue : [])),
      }));
      return;
    }
    res.status(rejected ? 207 : 202).json({ accepted: items.length, rejected, results });
  };

  const status = async (req: Request, res: Response): Promise<void> => {
    const org = String(req.params.organizationId);
    const visitId = visitIdOf(req);
    // Same answer for "not yours" and "does not exist": no probing of other facilities' visits. What the facility sent
    // (NIKs, names) is shown to that facility's own key only, never to another key nor the admin.
    const view = await showVisit({ store: deps.store, now: () => deps.clock().getTime() }, scopeOf(principalOf(res)), org, visitId, { locale: localeOf(req), withRecord: true });
    if (!view) throw apiError(404, 'not-found', 'visits.not-found');
    res.vary('Accept-Language').status(200).json(view);
  };

  router.route('/ilp/visits').get(auth, visitListHandler(deps)).post(auth, ingest).all(methodNotAllowed(['GET', 'POST']));
  router.route(`/ilp/visits/:organizationId/${VISIT_ID_SEGMENTS}`).get(auth, status).all(methodNotAllowed(['GET']));
  return router;
}

