// Attempts bound the retries of ONE record's transient failures (5xx, network). A facility-wide stop — 429 with
// Retry-After, failed authentication, 403 — says nothing about the record, so the attempt it interrupted must not be
// charged: otherwise a long quota or credential outage leaves the oldest visits with exhausted attempts, and the first
// real 503 afterwards dead-letters them at once (and their backoff starts at the cap).
import type { Bundle } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../src/platform/types.js';
import { idsFromTransactionResponse } from '../../src/platform/client.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { defaultRetryPolicy } from '../../src/sync/policy.js';
import { contentHash } from '../../src/sync/hash.js';
import { createLogger } from '../../src/util/logger.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import type { MappingTables } from '../../src/mapping/index.js';
import { core, facilityConfig, mappingApi } from '../e2e/harness.js';
import { makeVisit } from '../e2e/fixtures.js';
import { fakePlatformClient } from './fake-platform.js';

const ORG = '10000402';
const oo = (text: string) => toOperationOutcome([{ severity: 'error', code: 'transient', diagnostics: text }]);

function scriptedClient(failures: PlatformError[]): PlatformClient {
  return fakePlatformClient(ORG, {
    search: async () => [],
    transaction: async (_b: Bundle) => {
      throw failures.shift() ?? new Error('script exhausted');
    },
  });
}

describe('attempt accounting', () => {
  let store: Store;
  beforeAll(() => void core());
  beforeEach(async () => { store = await openStore({ url: 'sqlite::memory:' }); });
  afterEach(() => store.close());

  it.each([
    ['429 with Retry-After', () => new PlatformError('rate-limited', 429, oo('Too Many Requests'), [], 5_000)],
    ['failed authentication', () => new PlatformError('auth', 401, oo('Unauthorized'), [], 60_000)],
  ])('%s does not spend the record’s attempts; a 503 afterwards is retried, not dead-lettered', async (_name, facilityWide) => {
    const { tables, validator } = core();
    let t = Date.parse('2026-11-01T00:00:00Z');
    const now = () => t;
    const failures = [facilityWide(), facilityWide(), facilityWide(), facilityWide(), new PlatformError('transient', 503, oo('Service Unavailable'))];
    const facility = facilityConfig({ organizationId: ORG, clientId: 'c', clientSecret: 's' }, { authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1' } as never);
    const policy = { ...defaultRetryPolicy, maxAttempts: 3, authProbeDelayMs: 60_000 };
    const runner = new SyncRunner<MappingTables>({
      store, mapping: mappingApi, tables, validator, now,
      identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 1), now }),
      logger: createLogger({ level: 'silent' }),
      idsFromTransactionResponse,
      facilities: new Map([[ORG, { config: facility, client: scriptedClient(failures) }]]),
      settings: { concurrency: 1, perFacilityConcurrency: 1, batchSize: 1, leaseMs: 60_000, timeBudgetMs: 1_000 },
      policy,
    });
    const visit = makeVisit(1, { organizationId: ORG });
    await store.ingest([{ organizationId: ORG, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], t);

    for (let i = 0; i < 4; i++) {
      await runner.tick();
      const row = (await store.getVisit(ORG, visit.visitId))!;
      expect({ state: row.state, attempts: row.attempts }).toEqual({ state: 'queued', attempts: 0 });
      t = Math.max(row.nextAttemptAt, (await store.getFacilityState(ORG))?.notBefore ?? 0) + 1;
    }
    await runner.tick(); // the 503: the record's first own failure
    const row = (await store.getVisit(ORG, visit.visitId))!;
    expect({ state: row.state, attempts: row.attempts }).toEqual({ state: 'queued', attempts: 1 });
    expect(failures).toHaveLength(0);
  });
});
