// End to end against the bundled simulator over real HTTP, with the real platform client, store (SQLite file),
// mapping and validator. Faults: 10% 5xx, 5% responses dropped after commit, and quota 429s (simulator quota far
// below what the client would send). Time is virtual (see harness.ts): the quota window only moves when the runner
// waits out a Retry-After or the test steps between ticks, so the 429s are certain, not a matter of speed.
import { mapVisit } from '../../src/mapping/index.js';
import type { PlatformClient } from '../../src/platform/types.js';
import type { Store } from '../../src/store/types.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import {
  clientsFor, core, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, tempDb, testSettings, virtualClock,
} from './harness.js';
import { captureLines, makeVisit } from './fixtures.js';
import { HANG_MS } from '../helpers/eventually.js';

const ENC = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;
const OBS = (org: string) => `http://sys-ids.kemkes.go.id/observation/${org}`;

type Visit = ReturnType<typeof makeVisit>;
/** Hang bound of the two large runs (a few seconds on a quiet machine; far slower beside other test runs). */
const HEAVY_RUN_MS = 3 * HANG_MS;

/** Asserts that every visit is `sent` and that the simulator holds each of its resources exactly once. */
async function expectExactlyOnce(store: Store, sim: RunningSimulator, visits: Visit[]): Promise<void> {
  const { tables } = core();
  const perOrg = new Map<string, { enc: number; obs: number; imm: number; dx: number }>();
  for (const v of visits) {
    const org = String(v.organizationId);
    const row = (await store.getVisit(org, v.visitId))!;
    expect({ visit: v.visitId, state: row.state }).toEqual({ visit: v.visitId, state: 'sent' });
    const encounters = sim.state.findByIdentifier('Encounter', ENC(org), v.visitId);
    expect({ visit: v.visitId, encounters: encounters.length }).toEqual({ visit: v.visitId, encounters: 1 });
    const encId = String(encounters[0]!.id);
    expect(row.resourceIds?.encounter).toBe(`Encounter/${encId}`);
    const entries = mapVisit(v, tables, { now: new Date() }).entries;
    const obsKeys = entries.filter((e) => e.key.startsWith('observation/'));
    for (const e of obsKeys) {
      const value = `${v.visitId}.${e.key.slice('observation/'.length)}`;
      const found = sim.state.findByIdentifier('Observation', OBS(org), value);
      expect({ obs: value, count: found.length }).toEqual({ obs: value, count: 1 });
      expect(row.resourceIds?.[e.key]).toBe(`Observation/${String(found[0]!.id)}`);
    }
    expect(sim.state.search('Observation', { encounter: encId }).length).toBe(obsKeys.length);
    const immCount = entries.filter((e) => e.key.startsWith('immunization/')).length;
    expect(sim.state.search('Immunization', { encounter: encId }).length).toBe(immCount);
    const dxKeys = entries.filter((e) => e.key.startsWith('condition/'));
    expect(dxKeys.length).toBeGreaterThan(0); // the simulator refuses a finished Encounter without diagnosis (10457)
    for (const e of dxKeys) {
      const value = `${v.visitId}.dx.${e.key.slice('condition/'.length)}`;
      const found = sim.state.findByIdentifier('Condition', `http://sys-ids.kemkes.go.id/condition/${org}`, value);
      expect({ dx: value, count: found.length }).toEqual({ dx: value, count: 1 });
    }
    const t = perOrg.get(org) ?? { enc: 0, obs: 0, imm: 0, dx: 0 };
    perOrg.set(org, { enc: t.enc + 1, obs: t.obs + obsKeys.length, imm: t.imm + immCount, dx: t.dx + dxKeys.length });
  }
  // Nothing extra anywhere (a duplicate with another identifier value would not show up in the searches above).
  for (const [org, t] of perOrg) {
    const dx = sim.state.count('Condition', org);
    expect({ org, enc: sim.state.count('Encounter', org), obs: sim.state.count('Observation', org), imm: sim.state.count('Immunization', org), dx }).toEqual({ org, ...t });
  }
}

describe('sync end to end (simulator over HTTP)', () => {
  beforeAll(() => void core());

  it('delivers 200 visits over 3 facilities exactly once despite 5xx, lost responses and 429s; logs carry no PII or secret', async () => {
    const clock = virtualClock();
    const list = orgs(3);
    // A fixed seed: with one fault stream per kind of request, the transactions that lose their response are the same in
    // every run, however the concurrent searches interleave (a random seed once dropped no transaction response).
    const sim = await simulatorFor(list, { clock, errorRate5xx: 0.1, dropAfterCommitRate: 0.05, quotaPerMinute: 90, seed: 5 });
    const capture = captureLines();
    const logger = createLogger({ level: 'debug', destination: capture.stream });
    const db = tempDb();
    const store = await openStore({ url: db.url });
    try {
      const facilities = list.map((o) => facilityConfig(o, sim));
      const runner = runnerFor(store, clientsFor(facilities, clock, logger), clock, logger);
      const visits = Array.from({ length: 200 }, (_, i) => makeVisit(i, { organizationId: list[i % 3]!.organizationId, patients: 120 }));
      await ingestAll(store, visits, clock());
      const summaries = await syncUntilSettled(runner, store, visits.map((v) => ({ organizationId: String(v.organizationId), visitId: v.visitId })), clock);

      await expectExactlyOnce(store, sim, visits);
      const stats = sim.state.stats();
      // The faults really happened, and were survived.
      expect(stats.faults.error5xx).toBeGreaterThan(0);
      expect(stats.faults.dropAfterCommit).toBeGreaterThan(0);
      // Certain, not a matter of speed: within a tick virtual time stands still until a 429 makes the runner wait, and
      // each facility has far more than its 90 requests a minute to make.
      expect(stats.quotaRejections).toBeGreaterThan(0);
      expect(summaries.reduce((n, s) => n + s.sent, 0)).toBe(200);
      expect(summaries.reduce((n, s) => n + s.deadLetter + s.blocked + s.needsCorrection, 0)).toBe(0);
      // Lost responses were reconciled by identifier search, not re-created.
      const reconciled = capture.lines.filter((l) => l.includes('"msg":"reconciled visit with the platform by identifier"') && !l.includes('"adopted":0'));
      expect(reconciled.length).toBeGreaterThan(0);

      // No NIK, patient name or client secret in any log line.
      expect(capture.lines.length).toBeGreaterThan(200);
      const secrets = [...list.map((o) => o.clientSecret)];
      const pii = visits.flatMap((v) => [v.patient.nik, v.patient.name]);
      const leaks = capture.lines.filter((l) => pii.some((p) => l.includes(p)) || secrets.some((s) => l.includes(s)) || /Bearer\s/.test(l));
      expect(leaks).toEqual([]);
    } finally {
      await store.close();
      await sim.close();
    }
  }, HEAVY_RUN_MS);

  it('a sync process that dies mid-run loses and duplicates nothing when a new one takes over the same database', async () => {
    // "Death" = from one moment on, process A makes no new platform call and writes nothing (its store connection
    // is closed); requests already at the simulator still complete, so some commits have no recorded response.
    // Process B then opens the same SQLite file after A's leases expired and drains the outbox.
    const clock = virtualClock();
    const list = orgs(3);
    const sim = await simulatorFor(list, { clock, errorRate5xx: 0.1, dropAfterCommitRate: 0.05, seed: 11 });
    const logger = createLogger({ level: 'silent' });
    const captureB = captureLines();
    const loggerB = createLogger({ level: 'info', destination: captureB.stream });
    const db = tempDb();
    const storeA = await openStore({ url: db.url });
    const visits = Array.from({ length: 90 }, (_, i) => makeVisit(i, { organizationId: list[i % 3]!.organizationId, patients: 60 }));
    await ingestAll(storeA, visits, clock());

    let transactions = 0;
    let dead = false;
    const die = (c: PlatformClient): PlatformClient =>
      new Proxy(c, {
        get(target, prop, recv) {
          const v = Reflect.get(target, prop, recv) as unknown;
          if (typeof v !== 'function') return v;
          return async (...args: unknown[]) => {
            if (dead) throw new Error('process is dead');
            const res = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (prop === 'transaction' && ++transactions === 12) {
              dead = true; // committed at the platform, response never recorded
              await storeA.close();
            }
            return res;
          };
        },
      });
    const facilitiesA = list.map((o) => facilityConfig(o, sim));
    const runnerA = runnerFor(storeA, clientsFor(facilitiesA, clock, logger, die), clock, logger);
    await runnerA.tick().catch(() => undefined); // the tick fails when its store disappears
    expect(dead).toBe(true);

    // Some rows were left `sending` with a lease; B starts after the lease ran out.
    clock.advance(testSettings.leaseMs + 60_000);
    const storeB = await openStore({ url: db.url });
    try {
      const states = await Promise.all(visits.map(async (v) => (await storeB.getVisit(String(v.organizationId), v.visitId))!.state));
      const leftSending = states.filter((s) => s === 'sending');
      expect(leftSending.length).toBeGreaterThan(0);
      const sentBefore = states.filter((s) => s === 'sent').length;
      expect(sentBefore).toBeLessThan(90);
      const runnerB = runnerFor(storeB, clientsFor(list.map((o) => facilityConfig(o, sim)), clock, loggerB), clock, loggerB);
      await syncUntilSettled(runnerB, storeB, visits.map((v) => ({ organizationId: String(v.organizationId), visitId: v.visitId })), clock);
      await expectExactlyOnce(storeB, sim, visits);
      // B really met A's committed-but-unrecorded transaction and adopted it instead of creating it again.
      const adoptions = captureB.lines.map((l) => JSON.parse(l) as { msg: string; adopted?: number }).filter((l) => l.msg === 'reconciled visit with the platform by identifier' && (l.adopted ?? 0) > 0);
      expect(adoptions.length).toBeGreaterThan(0);
    } finally {
      await storeB.close();
      await sim.close();
    }
  }, HEAVY_RUN_MS);

  it('an unresolvable NIK ends blocked; a record the platform rejects ends needs-correction with its rule number; a revision updates in place', async () => {
    const clock = virtualClock();
    const list = orgs(1);
    const org = list[0]!.organizationId;
    const unknown = makeVisit(1, { organizationId: org });
    const rejected = makeVisit(2, { organizationId: org, practitionerIhs: '10099999999' }); // not in the Nakes index
    const good = makeVisit(3, { organizationId: org });
    const sim = await simulatorFor(list, { clock, unknownNiks: [unknown.patient.nik] });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      const runner = runnerFor(store, clientsFor([facilityConfig(list[0]!, sim)], clock, logger), clock, logger);
      await ingestAll(store, [unknown, rejected, good], clock());
      await syncUntilSettled(runner, store, [unknown, rejected, good].map((v) => ({ organizationId: org, visitId: v.visitId })), clock);

      const blocked = (await store.getVisit(org, unknown.visitId))!;
      expect(blocked.state).toBe('blocked');
      expect(blocked.attempts).toBe(1); // not a retry loop
      expect(blocked.lastError!.issue[0]!.expression).toEqual(['patient.nik']);
      expect(JSON.stringify(blocked.lastError)).not.toContain(unknown.patient.nik);

      const nc = (await store.getVisit(org, rejected.visitId))!;
      expect(nc.state).toBe('needs-correction');
      expect(nc.attempts).toBe(1);
      // The stored error carries no personal data of the record.
      const text = JSON.stringify(nc.lastError);
      expect(text).not.toContain(rejected.patient.nik);
      expect(text).not.toContain(rejected.patient.name);
      // The platform's answer as recorded (Google-style reference_not_found, no expression), explained in terms of the
      // source record's field by the type of the missing reference.
      expect(nc.lastError!.issue[0]!.diagnostics).toMatch(/^practitioner: reference target\(s\) not found: Practitioner\//);
      expect(nc.lastError!.issue[0]!.expression).toContain('practitioner');
      expect(sim.state.findByIdentifier('Encounter', ENC(org), rejected.visitId)).toHaveLength(0);

      // A revision: one measurement changed → PUT of that Observation only; still one Encounter.
      const sentRow = (await store.getVisit(org, good.visitId))!;
      expect(sentRow.state).toBe('sent');
      const changed = structuredClone(good) as typeof good & { measurements: Array<{ value: number }> };
      changed.measurements[0]!.value += 1;
      await ingestAll(store, [changed], clock());
      const obsId = sentRow.resourceIds!['observation/body-weight.1']!.split('/')[1]!;
      const valueOf = () => (sim.state.get('Observation', obsId) as { valueQuantity: { value: number } }).valueQuantity.value;
      const oldValue = valueOf();
      const before = sim.state.requestLog().length;
      const observationsBefore = sim.state.count('Observation', org);
      await syncUntilSettled(runner, store, [{ organizationId: org, visitId: good.visitId }], clock);
      const after = (await store.getVisit(org, good.visitId))!;
      expect(after.state).toBe('sent');
      expect(after.revision).toBe(2);
      expect(after.resourceIds).toEqual(sentRow.resourceIds);
      expect(sim.state.findByIdentifier('Encounter', ENC(org), good.visitId)).toHaveLength(1);
      const calls = sim.state.requestLog().slice(before);
      expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([expect.stringMatching(/^POST \/fhir-r4\/v1\/?$/)]);
      expect(valueOf()).not.toBe(oldValue); // same id, new value: updated in place (PUT with the id), not created again
      expect(sim.state.count('Observation', org)).toBe(observationsBefore);
    } finally {
      await store.close();
      await sim.close();
    }
  });

  it('is fair: a facility with a large backlog does not starve one with a few visits', async () => {
    const clock = virtualClock();
    const list = orgs(2);
    const [big, small] = list.map((o) => o.organizationId) as [string, string];
    const sim = await simulatorFor(list, { clock });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      const order: string[] = [];
      const runner = runnerFor(store, clientsFor(list.map((o) => facilityConfig(o, sim)), clock, logger), clock, logger, undefined, {
        onClaim: (row) => void order.push(row.organizationId),
        // One lane (concurrency = per-facility concurrency) makes the interleaving visible and deterministic.
        settings: { concurrency: 2, perFacilityConcurrency: 2, batchSize: 4 },
      });
      const bigVisits = Array.from({ length: 60 }, (_, i) => makeVisit(i, { organizationId: big, patients: 10 }));
      await ingestAll(store, bigVisits, clock() - 60_000); // older: oldest-first alone would serve these first
      const smallVisits = Array.from({ length: 3 }, (_, i) => makeVisit(100 + i, { organizationId: small }));
      await ingestAll(store, smallVisits, clock());
      await syncUntilSettled(runner, store, [...bigVisits, ...smallVisits].map((v) => ({ organizationId: String(v.organizationId), visitId: v.visitId })), clock);
      const lastSmall = order.lastIndexOf(small);
      expect(order.filter((o) => o === small)).toHaveLength(3);
      expect(lastSmall).toBeLessThan(12); // served within the first rounds, not after 60 visits of the big one
    } finally {
      await store.close();
      await sim.close();
    }
  });
});
