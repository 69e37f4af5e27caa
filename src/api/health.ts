// Liveness (`/health`: the process answers) and readiness (`/ready`: validator and tables loaded, plus any check
// a later module registers, e.g. the store). Not FHIR resources, so plain JSON; failures are OperationOutcomes.
import { AppError } from '../util/app-error.js';
import { Router } from 'express';
import { issue } from '../validation/outcome.js';
import { methodNotAllowed, sendOutcome } from './errors.js';

/** Thrown by a readiness check to say why it is not ready; the message is shown, so it must be content-free. */
export class NotReady extends AppError {
  constructor(message: string) {
    super('not-ready', message, { status: 503 });
  }
}

export interface ReadinessCheck {
  /** Short, content-free name shown in the response, e.g. `store`. */
  name: string;
  /** Resolves true when ready; false or a rejection means not ready (a NotReady rejection also says why). */
  check: () => boolean | Promise<boolean>;
  /**
   * Shown under `details.<name>` in both answers, without deciding readiness: e.g. each facility's token probe
   * (a facility with wrong credentials must not make an orchestrator restart the service for every other facility).
   */
  details?: () => unknown;
}

function detailsOf(checks: ReadinessCheck[]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const c of checks) {
    if (!c.details) continue;
    try {
      out[c.name] = c.details();
    } catch {
      out[c.name] = 'unavailable';
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export function healthRouter(checks: ReadinessCheck[], startedAt: Date): Router {
  const router = Router();
  router
    .route('/health')
    .get((_req, res) => {
      res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000) });
    })
    .all(methodNotAllowed(['GET']));
  router
    .route('/ready')
    .get(async (_req, res) => {
      const failed: string[] = [];
      for (const c of checks) {
        let ok = false;
        let why = '';
        try {
          ok = await c.check();
        } catch (e) {
          ok = false;
          // Only NotReady texts are shown: any other error message could carry anything.
          if (e instanceof NotReady) why = ` (${e.message})`;
        }
        if (!ok) failed.push(`${c.name}${why}`);
      }
      const details = detailsOf(checks);
      if (failed.length) {
        res.set('Retry-After', '1');
        const notReady = failed.map((n) => issue('error', 'transient', `Not ready: ${n}`));
        const info = details ? [issue('information', 'informational', `details: ${JSON.stringify(details)}`)] : [];
        sendOutcome(res, 503, [...notReady, ...info]);
        return;
      }
      res.json({ status: 'ready', checks: ['validator', 'mapping-tables', ...checks.filter((c) => !c.details).map((c) => c.name)], ...(details ? { details } : {}) });
    })
    .all(methodNotAllowed(['GET']));
  return router;
}
