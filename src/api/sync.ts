// Operational endpoints of the delivery job (admin key, except GET /sync/status which a facility key may read for
// its own organization):
//   POST /sync/run                                   run a tick now (joins a running one); 200 with the tick summary
//   GET  /sync/status                                counts per state and facility status (facility key: own org only)
//   POST /sync/visits/{organizationId}/{visitId}/requeue   blocked / needs-correction / dead-letter → queued
//   POST /sync/facilities/{organizationId}/pause      stop delivering for a facility
//   POST /sync/facilities/{organizationId}/resume     deliver again (also clears auth-failed / config-error)
import { Router, type Request, type Response } from 'express';
import type { FacilityStatus, Store } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import type { FacilityConfig } from '../platform/types.js';
import { describeFacility } from '../config/facilities.js';
import { httpError, methodNotAllowed } from './errors.js';
import { authenticate, mayAccess, principalOf, requireAdmin, type AuthDeps } from './auth.js';

export interface SyncControl {
  tick(): Promise<unknown>;
}

export interface SyncRouterDeps extends AuthDeps {
  store: Store;
  runner: SyncControl;
  facilities: FacilityConfig[];
  clock: () => Date;
  logger: Logger;
  /** Extra per-facility figures (e.g. limiter stats), PII-free. */
  facilityStats?: (organizationId: string) => Record<string, unknown> | undefined;
}

export function syncRouter(deps: SyncRouterDeps): Router {
  const router = Router();
  const auth = authenticate(deps);
  const known = new Set(deps.facilities.map((f) => f.organizationId));

  const facilityView = (org: string) => {
    const cfg = deps.facilities.find((f) => f.organizationId === org);
    const st = deps.store.getFacilityState(org);
    return {
      ...(cfg ? describeFacility(cfg) : { organizationId: org, configured: false }),
      status: st?.status ?? 'active',
      ...(st?.reason ? { reason: st.reason } : {}),
      ...(st?.notBefore && st.notBefore > deps.clock().getTime() ? { notBefore: new Date(st.notBefore).toISOString() } : {}),
      counts: deps.store.counts(org).byState,
      ...(deps.facilityStats?.(org) ?? {}),
    };
  };

  router
    .route('/sync/run')
    .post(auth, requireAdmin, async (_req: Request, res: Response) => {
      const summary = await deps.runner.tick();
      res.status(200).json(summary);
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/sync/status')
    .get(auth, (_req: Request, res: Response) => {
      const p = principalOf(res);
      const orgs = p.role === 'admin' ? [...known] : [p.organizationId!];
      res.status(200).json({
        ...(p.role === 'admin' ? { counts: deps.store.counts().byState } : {}),
        facilities: orgs.map(facilityView),
      });
    })
    .all(methodNotAllowed(['GET']));

  router
    .route('/sync/visits/:organizationId/:visitId/requeue')
    .post(auth, requireAdmin, (req: Request, res: Response) => {
      const org = String(req.params.organizationId);
      const visitId = String(req.params.visitId);
      const row = deps.store.getVisit(org, visitId);
      if (!row) throw httpError(404, 'not-found', 'No such visit');
      if (!deps.store.requeue(org, visitId, deps.clock().getTime())) {
        throw httpError(409, 'conflict', `Only blocked, needs-correction or dead-letter visits can be requeued (this one is ${row.state})`);
      }
      deps.logger.info({ org, visit: visitId, from: row.state }, 'visit requeued by operator');
      res.status(200).json({ organizationId: org, visitId, state: 'queued', previousState: row.state });
    })
    .all(methodNotAllowed(['POST']));

  const setStatus = (status: FacilityStatus) => (req: Request, res: Response) => {
    const org = String(req.params.organizationId);
    const p = principalOf(res);
    if (!known.has(org) || !mayAccess(p, org)) throw httpError(404, 'not-found', 'No such facility in the facilities file');
    deps.store.putFacilityState({ organizationId: org, status, ...(status === 'paused' ? { reason: 'paused by an operator' } : {}), updatedAt: deps.clock().getTime() });
    deps.logger.info({ org, status }, 'facility status changed by operator');
    res.status(200).json(facilityView(org));
  };
  router.route('/sync/facilities/:organizationId/pause').post(auth, requireAdmin, setStatus('paused')).all(methodNotAllowed(['POST']));
  router.route('/sync/facilities/:organizationId/resume').post(auth, requireAdmin, setStatus('active')).all(methodNotAllowed(['POST']));
  return router;
}
