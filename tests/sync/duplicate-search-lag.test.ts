// 20002 (duplicate) on a visit's transaction, and the identifier search right after it finds no Encounter: the
// platform's search can lag its duplicate check, so the first time it is transient (retried with backoff; the next
// attempt searches again and adopts what it finds). Only when a later attempt meets it again does the visit go to
// needs-correction. A 20002 after the search DID find the Encounter is not search lag: needs-correction at once.
import type { Bundle, Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../src/platform/types.js';
import { idsFromTransactionResponse } from '../../src/platform/client.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { defaultRetryPolicy } from '../../src/sync/policy.js';
import { SYNC_NOTE_SYSTEM, UNSEEN_DUPLICATE_CODE } from '../../src/sync/deliver.js';
import { contentHash } from '../../src/sync/hash.js';
import { localizeOutcome } from '../../src/i18n/issues.js';
import { createLogger } from '../../src/util/logger.js';
import type { MappingTables } from '../../src/mapping/index.js';
import { core, facilityConfig, mappingApi } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { fakePlatformClient } from './fake-platform.js';

const ORG = '10000403';
const ENC_SYSTEM = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

const duplicate = () =>
  new PlatformError('duplicate', 400, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } }],
  }, ['20002']);

/** A transaction-response giving every entry an id (PUT keeps its id). */
function committed(bundle: Bundle): Bundle {
  let n = 0;
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: (bundle.entry ?? []).map((e) => {
      const type = e.resource!.resourceType;
      const id = e.request!.method === 'PUT' ? e.request!.url.split('/')[1]! : `new-${type}-${++n}`;
      return { response: { status: '201 Created', location: `${type}/${id}/_history/1` } };
    }),
  };
}

interface Script {
  /** What the Encounter search returns, per call (default: nothing). */
  encounterSearch: Array<Resource[]>;
  /** Transaction outcomes, per call: 'dup' throws 20002, 'ok' commits. */
  transactions: Array<'dup' | 'ok'>;
}

function scriptedClient(script: Script, calls: string[]): PlatformClient {
  return fakePlatformClient(ORG, {
    search: async (type: string) => {
      calls.push(`search ${type}`);
      return type === 'Encounter' ? (script.encounterSearch.shift() ?? []) : [];
    },
    transaction: async (b: Bundle) => {
      calls.push(`transaction ${(b.entry ?? []).map((e) => e.request!.method).join(',')}`);
      const next = script.transactions.shift();
      if (next === 'ok') return committed(b);
      throw next === 'dup' ? duplicate() : new Error('script exhausted');
    },
  });
}

describe('20002 with nothing found by the identifier search', () => {
  let store: Store;
  let t: number;
  const visit = makeVisit(1, { organizationId: ORG });
  beforeAll(() => void core());
  beforeEach(async () => {
    store = await openStore({ url: 'sqlite::memory:' });
    t = Date.parse('2026-11-01T00:00:00Z');
    await store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], t);
  });
  afterEach(() => store.close());

  function runnerWith(script: Script, calls: string[]) {
    const { tables, validator } = core();
    const now = () => t;
    const facility = facilityConfig({ organizationId: ORG, clientId: 'c', clientSecret: 's' }, { authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1' } as never);
    return new SyncRunner<MappingTables>({
      store, mapping: mappingApi, tables, validator, now,
      identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 2), now }),
      logger: createLogger({ level: 'silent' }),
      idsFromTransactionResponse,
      facilities: new Map([[ORG, { config: facility, client: scriptedClient(script, calls) }]]),
      settings: { concurrency: 1, perFacilityConcurrency: 1, batchSize: 1, leaseMs: 60_000, timeBudgetMs: 1_000 },
      policy: { ...defaultRetryPolicy, random: () => 0.5 },
    });
  }

  const nextAttempt = async () => {
    t = (await store.getVisit(ORG, visit.visitId))!.nextAttemptAt + 1;
  };

  it('the first time is transient (retried with backoff); repeated on a later attempt it is needs-correction', async () => {
    const calls: string[] = [];
    const runner = runnerWith({ encounterSearch: [], transactions: ['dup', 'dup', 'dup', 'dup'] }, calls);

    const first = await runner.tick();
    expect(first).toMatchObject({ retried: 1, needsCorrection: 0 });
    const row = (await store.getVisit(ORG, visit.visitId))!;
    expect(row).toMatchObject({ state: 'queued', attempts: 1 });
    expect(row.nextAttemptAt).toBeGreaterThan(t); // backoff, not an immediate spin
    // The note is state (a coded detail), its text a catalogue message.
    expect(row.lastError!.issue[0]!.details!.coding).toEqual([{ system: SYNC_NOTE_SYSTEM, code: UNSEEN_DUPLICATE_CODE }]);
    expect(row.lastError!.issue[0]!.diagnostics).toMatch(/^SATUSEHAT reports a duplicate \(RuleNumber: 20002\) that the identifier search does not return \(search lag/);
    // Stored with its message (scrubbing keeps it), so the operator reads it in Bahasa Indonesia by default.
    expect(localizeOutcome(row.lastError!, 'id').issue[0]!.diagnostics).toMatch(/^SATUSEHAT melaporkan duplikat \(RuleNumber: 20002\)/);
    expect(JSON.stringify(row.lastError)).toContain('RuleNumber: 20002');
    expect(JSON.stringify(row.lastError)).not.toContain(visit.patient.nik);
    // Encounter, three Observations and the derived diagnosis (Condition, Z13.6 from the blood pressure).

    expect(calls).toEqual(['transaction POST,POST,POST,POST,POST', 'search Encounter', 'transaction POST,POST,POST,POST,POST']);

    await nextAttempt();
    calls.length = 0;
    const second = await runner.tick();
    expect(second).toMatchObject({ retried: 0, needsCorrection: 1 });
    const final = (await store.getVisit(ORG, visit.visitId))!;
    expect(final).toMatchObject({ state: 'needs-correction', attempts: 2 });
    expect(final.lastError!.issue[0]!.diagnostics).toMatch(/again on a later attempt/);
    expect(JSON.stringify(final.lastError)).toContain('RuleNumber: 20002');
    // The later attempt searched first (it may have been sent), then met the duplicate again.
    expect(calls[0]).toBe('search Encounter');
  });

  it('when the later attempt’s search finds the Encounter, it is adopted and the visit is sent (PUT, no second Encounter)', async () => {
    const calls: string[] = [];
    const encounter = { resourceType: 'Encounter', id: 'enc-1', identifier: [{ system: ENC_SYSTEM, value: visit.visitId }] } as Resource;
    const runner = runnerWith({ encounterSearch: [[], [encounter]], transactions: ['dup', 'dup', 'ok'] }, calls);
    await runner.tick();
    expect(await store.getVisit(ORG, visit.visitId)).toMatchObject({ state: 'queued', attempts: 1 });

    await nextAttempt();
    calls.length = 0;
    expect(await runner.tick()).toMatchObject({ sent: 1 });
    const row = (await store.getVisit(ORG, visit.visitId))!;
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
    expect(row.resourceIds!.encounter).toBe('Encounter/enc-1');
    expect(calls[0]).toBe('search Encounter');
    expect(calls.at(-1)).toMatch(/^transaction PUT,/); // the Encounter updated in place, the rest created once
    expect(calls.at(-1)!.match(/PUT/g)).toHaveLength(1);
  });

  it('a 20002 after the search DID find the Encounter is not search lag: needs-correction at once', async () => {
    const calls: string[] = [];
    const encounter = { resourceType: 'Encounter', id: 'enc-1', identifier: [{ system: ENC_SYSTEM, value: visit.visitId }] } as Resource;
    const runner = runnerWith({ encounterSearch: [[encounter]], transactions: ['dup', 'dup'] }, calls);
    expect(await runner.tick()).toMatchObject({ needsCorrection: 1, retried: 0 });
    expect(await store.getVisit(ORG, visit.visitId)).toMatchObject({ state: 'needs-correction', attempts: 1 });
    expect(calls.at(-1)).toMatch(/^transaction PUT/); // the adopted Encounter was PUT, and still 20002
  });

  it('a new revision starts afresh: its first unseen duplicate is transient again', async () => {
    const calls: string[] = [];
    const runner = runnerWith({ encounterSearch: [], transactions: ['dup', 'dup', 'dup', 'dup'] }, calls);
    await runner.tick();
    expect((await store.getVisit(ORG, visit.visitId))!.lastError).toBeDefined();
    const changed = { ...visit, end: String(visit.end).replace(':20:', ':25:') };
    await store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: changed, contentHash: contentHash(changed) }], t);
    expect(await runner.tick()).toMatchObject({ retried: 1, needsCorrection: 0 });
    expect(await store.getVisit(ORG, visit.visitId)).toMatchObject({ state: 'queued', revision: 2, attempts: 1 });
  });
});
