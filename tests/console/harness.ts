// The console over the query harness's store, keys and clock: a supertest agent per operator (it keeps the session
// cookie), sign-in, the CSRF token of a page, and records put into the states the console lists.
import request from 'supertest';
import type { OperationOutcome } from 'fhir/r4.js';
import { consoleRouter, type ConsoleDeps, type ConsoleImportDeps, type ConsoleRouter } from '../../src/console/router.js';
import { createValidator } from '../../src/validation/index.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { A, B, facilityConfig, harness, KEY, NOW, visits, type Harness } from '../queries/harness.js';

export { A, B, KEY, NOW, visits };

export interface ConsoleHarness extends Harness {
  console: ConsoleRouter;
  agent(): ReturnType<typeof request.agent>;
  /** An agent signed in with this operator's key ('admin' or an organization). */
  signIn(who: string): Promise<ReturnType<typeof request.agent>>;
  /** Pushes one visit and records it as refused by the platform with these issues (before other visits are queued: the claim takes every due one). */
  failed(org: string, visitId: string, state: 'needs-correction' | 'blocked' | 'dead-letter', issues: OperationOutcome['issue']): Promise<void>;
}

export const csrfOf = (page: string): string => {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('page has no CSRF field');
  return m[1]!;
};

export function consoleHarness(opts: Partial<Pick<ConsoleDeps, 'idleMs' | 'throttle' | 'facilities' | 'imports'>> = {}): ConsoleHarness {
  let built: ConsoleRouter | undefined;
  const h = harness({
    htmlRouters: (shared) => {
      built = consoleRouter({ ...shared, facilities: opts.facilities ?? [facilityConfig(A), facilityConfig(B)], ...opts });
      return [built.router];
    },
  });
  const agent = () => request.agent(h.app);
  return {
    ...h,
    console: built!,
    agent,
    async signIn(who) {
      const a = agent();
      await a.post('/console/login').type('form').send({ apiKey: KEY[who] }).expect(303).expect('Location', '/console');
      return a;
    },
    async failed(org, visitId, state, issues) {
      await h.push(org, visits(org, 1, { visitId })).expect(202);
      const [claimed] = (await h.store.claimDue(org, NOW.getTime() + 3_600_000, 100, 60_000)).filter((v) => v.visitId === visitId);
      if (!claimed) throw new Error(`could not claim ${visitId}`);
      await h.store.markFinal(claimed.claim, state, { resourceType: 'OperationOutcome', issue: issues }, NOW.getTime() + 1_000);
    },
  };
}

let checks: Pick<ConsoleImportDeps, 'validator' | 'mapper'> | undefined;
/** Built on first use (the other console tests need no validator of their own). */
const ingestChecks = () => {
  const tables = loadMappingTables();
  return (checks ??= { validator: createValidator(), mapper: (r, now) => mapVisit(r, tables, { now }) });
};

/** Facility A with the sample register's posyandu (POSY-MAWAR-01) configured, and B as the query harness has it. */
export const UPLOAD_FACILITIES = [{ ...facilityConfig(A), locations: { 'POSY-MAWAR-01': { name: 'Posyandu Mawar' } as never } }, facilityConfig(B)];

/** The console with its spreadsheet upload: the real ingest checks, spooling under `spoolRoot`. */
export function uploadHarness(spoolRoot: string, over: Partial<ConsoleImportDeps> = {}): ConsoleHarness {
  return consoleHarness({
    facilities: UPLOAD_FACILITIES,
    imports: { ...ingestChecks(), idKey: Buffer.alloc(32, 7), spoolRoot, ...over },
  });
}
