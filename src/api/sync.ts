// Operational endpoints of the delivery job (admin key, except GET /sync/status which a facility key may read for
// its own organization):
//   POST /sync/run                                   start a tick now: 202 {status: started|already-running} at once
//                                                    (?wait=true: wait for it, joining a running one; 200 with the summary
//                                                    and, per facility, what still waits and why)
//   GET  /sync/status                                counts per state, facility status, whether a run is going on and
//                                                    (admin) the last run's summary (facility key: own org only)
//   POST /sync/visits/{organizationId}/{visitId}/requeue   blocked / needs-correction / dead-letter → queued
//   POST /sync/facilities/{organizationId}/pause      stop delivering for a facility
//   POST /sync/facilities/{organizationId}/resume     deliver again (also clears auth-failed / config-error) and probe the
//                                                    facility's token at once (the answer carries the probe's result)
import { Router, type Request, type Response } from 'express';
import type { Store, VisitState } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import type { FacilityConfig } from '../platform/types.js';
import { describeFacility } from '../config/facilities.js';
import { apiError, methodNotAllowed, requestLocale } from './errors.js';
import { DEFAULT_LOCALE } from '../i18n/index.js';
import { renderRef } from '../i18n/issues.js';
import { authenticate, mayAccess, principalOf, requireAdmin, type AuthDeps } from './auth.js';
import type { ProbeResult } from '../sync/probe.js';
import { requeueVisit } from '../app/visits.js';
import { setFacilityStatus } from '../app/facilities.js';
import { visitIdOf, VISIT_ID_SEGMENTS } from './queries.js';
import { facilityHoldText, facilityReasonText } from '../app/visit-view.js';
import { messages, negotiateLocale, type Locale } from '../i18n/index.js';

const stateText = messages('visit-state');
/** Every state but `sent`: what a run leaves behind. */
const WAITING_STATES: readonly VisitState[] = ['queued', 'sending', 'needs-correction', 'blocked', 'dead-letter'];

/** The start-up token probes (src/sync/probe.ts), as the status endpoints see them. */
export interface ProbeView {
  result(organizationId: string): ProbeResult | undefined;
  probe(organizationId: string): Promise<ProbeResult>;
}

/** A probe result as JSON: times as ISO strings. */
export function probeJson(r: ProbeResult, locale: Locale = DEFAULT_LOCALE): Record<string, unknown> {
  return {
    status: r.status,
    ...(r.checkedAt !== undefined ? { checkedAt: new Date(r.checkedAt).toISOString() } : {}),
    ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
    ...(r.reason ? { reason: r.reasonMessage && locale !== 'en' ? renderRef(locale, r.reasonMessage) : r.reason } : {}),
  };
}

export interface SyncControl {
  tick(): Promise<unknown>;
  /** A tick is running now. */
  readonly busy: boolean;
  /** The last finished tick, if any (epoch-ms finishedAt). */
  readonly lastTick?: { summary: unknown; finishedAt: number } | undefined;
}

export interface SyncRouterDeps extends AuthDeps {
  store: Store;
  runner: SyncControl;
  facilities: FacilityConfig[];
  clock: () => Date;
  logger: Logger;
  /** Extra per-facility figures (e.g. limiter stats), PII-free. */
  facilityStats?: (organizationId: string) => Record<string, unknown> | undefined;
  probes?: ProbeView;
}

export function syncRouter(deps: SyncRouterDeps): Router {
  const router = Router();
  const auth = authenticate(deps);
  const known = new Set(deps.facilities.map((f) => f.organizationId));

  /** One facility's sync status; reasons said in `locale` (the request's Accept-Language). */
  const facilityView = async (org: string, locale: Locale) => {
    const cfg = deps.facilities.find((f) => f.organizationId === org);
    const st = await deps.store.getFacilityState(org);
    const probe = deps.probes?.result(org);
    return {
      ...(cfg ? describeFacility(cfg) : { organizationId: org, configured: false }),
      status: st?.status ?? 'active',
      ...(st?.cause ? { cause: st.cause } : {}),
      ...(st?.reason ? { reason: facilityReasonText(st, locale)! } : {}),
      ...(probe ? { tokenProbe: probeJson(probe, locale) } : {}),
      ...(st?.notBefore && st.notBefore > deps.clock().getTime() ? { notBefore: new Date(st.notBefore).toISOString() } : {}),
      counts: (await deps.store.counts(org)).byState,
      ...(deps.facilityStats?.(org) ?? {}),
    };
  };

  /** One facility after a run: counts by state, the facility's hold, when the queued ones come due, and what each waiting state means. */
  const waitingView = async (org: string, locale: Locale) => {
    const now = deps.clock().getTime();
    const st = await deps.store.getFacilityState(org);
    const counts = (await deps.store.counts(org)).byState;
    const due = await deps.store.dueSplit(org, now);
    const hold = facilityHoldText(st, now, locale);
    const why = Object.fromEntries(WAITING_STATES.filter((x) => counts[x] > 0).map((x) => [x, stateText(locale, `state.${x}`)]));
    return {
      organizationId: org,
      status: st?.status ?? 'active',
      ...(st?.cause ? { cause: st.cause } : {}),
      ...(hold ? { hold } : {}),
      counts,
      waiting: WAITING_STATES.reduce((n, x) => n + counts[x], 0),
      queued: { dueNow: due.dueNow, later: due.later, ...(due.nextDueAt !== undefined ? { nextDueAt: new Date(due.nextDueAt).toISOString() } : {}) },
      ...(Object.keys(why).length ? { why } : {}),
    };
  };

  router
    .route('/sync/run')
    .post(auth, requireAdmin, async (req: Request, res: Response) => {
      const wait = String(req.query.wait ?? 'false').toLowerCase();
      if (!['true', 'false', '1', '0'].includes(wait)) throw apiError(400, 'value', 'sync.wait', {}, 'wait');
      if (wait === 'true' || wait === '1') {
        const joined = deps.runner.busy;
        const summary = await deps.runner.tick();
        const locale = negotiateLocale(req.get('accept-language'));
        // What the run did, and what it left: a run with nothing to do answers zeros, and only `waiting` says whether
        // that is because everything was sent before or because the work is held (and by what).
        res.vary('Accept-Language').status(200).json({
          ...(typeof summary === 'object' && summary !== null ? summary : {}),
          ...(joined ? { joinedRunningRun: true } : {}),
          waiting: await Promise.all([...known].map((org) => waitingView(org, locale))),
        });
        return;
      }
      // A run can take up to the tick budget (minutes): answer now; GET /sync/status shows progress and the result.
      const status = deps.runner.busy ? 'already-running' : 'started';
      if (status === 'started') {
        deps.runner.tick().catch((err: unknown) => deps.logger.error({ err }, 'sync run started by POST /sync/run failed'));
      }
      res.status(202).json({ status });
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/sync/status')
    .get(auth, async (req: Request, res: Response) => {
      const p = principalOf(res);
      const orgs = p.role === 'admin' ? [...known] : [p.organizationId!];
      const last = deps.runner.lastTick;
      const locale = requestLocale(req);
      const counts = p.role === 'admin' ? (await deps.store.counts()).byState : undefined;
      const facilities = await Promise.all(orgs.map((org) => facilityView(org, locale)));
      res.vary('Accept-Language').status(200).json({
        ...(counts ? { counts } : {}),
        run: {
          running: deps.runner.busy,
          // The summary spans every facility: admin only.
          ...(p.role === 'admin' && last ? { last: { finishedAt: new Date(last.finishedAt).toISOString(), summary: last.summary } } : {}),
        },
        facilities,
      });
    })
    .all(methodNotAllowed(['GET']));

  router
    .route(`/sync/visits/:organizationId/${VISIT_ID_SEGMENTS}/requeue`)
    .post(auth, requireAdmin, async (req: Request, res: Response) => {
      const org = String(req.params.organizationId);
      const visitId = visitIdOf(req);
      const done = await requeueVisit({ store: deps.store, now: () => deps.clock().getTime() }, { all: true }, org, visitId);
      if (done.status === 'not-found') throw apiError(404, 'not-found', 'sync.no-visit');
      if (done.status === 'not-final') {
        throw apiError(409, 'conflict', 'sync.not-final', { state: done.state });
      }
      deps.logger.info({ org, visit: visitId, from: done.previousState }, 'visit requeued by operator');
      res.status(200).json({ organizationId: org, visitId, state: 'queued', previousState: done.previousState });
    })
    .all(methodNotAllowed(['POST']));

  const setStatus = (status: 'paused' | 'active') => async (req: Request, res: Response) => {
    const org = String(req.params.organizationId);
    const p = principalOf(res);
    if (!known.has(org) || !mayAccess(p, org)) throw apiError(404, 'not-found', 'sync.no-facility');
    await setFacilityStatus(deps.store, org, status, deps.clock().getTime());
    deps.logger.info({ org, status }, 'facility status changed by operator');
    // Resumed after a fix: find out now whether the credentials work, instead of at the next delivery.
    if (status === 'active' && deps.probes) await deps.probes.probe(org);
    res.vary('Accept-Language').status(200).json(await facilityView(org, requestLocale(req)));
  };
  router.route('/sync/facilities/:organizationId/pause').post(auth, requireAdmin, setStatus('paused')).all(methodNotAllowed(['POST']));
  router.route('/sync/facilities/:organizationId/resume').post(auth, requireAdmin, setStatus('active')).all(methodNotAllowed(['POST']));
  return router;
}
