// A SyncRunner over an in-memory store and one scripted facility client, for sync unit tests. Not a test file itself.
import { idsFromTransactionResponse } from '../../src/platform/client.js';
import type { PlatformClient } from '../../src/platform/types.js';
import type { Store } from '../../src/store/types.js';
import { IdentityResolver } from '../../src/sync/identity.js';
import { SyncRunner, type RunnerDeps, type RunnerSettings } from '../../src/sync/runner.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../src/sync/policy.js';
import { createLogger } from '../../src/util/logger.js';
import type { MappingTables } from '../../src/mapping/index.js';
import { core, facilityConfig, mappingApi } from '../e2e/harness.js';

export interface UnitRunnerOptions {
  settings?: Partial<RunnerSettings>;
  policy?: Partial<RetryPolicy>;
  onClaim?: RunnerDeps['onClaim'];
}

export function unitRunner(store: Store, organizationId: string, client: PlatformClient, now: () => number, opts: UnitRunnerOptions = {}): SyncRunner<MappingTables> {
  const { tables, validator } = core();
  const facility = facilityConfig({ organizationId, clientId: 'c', clientSecret: 's' }, { authBaseUrl: 'http://x/oauth2/v1', fhirBaseUrl: 'http://x/fhir-r4/v1' } as never);
  return new SyncRunner<MappingTables>({
    store, mapping: mappingApi, tables, validator, now,
    identity: new IdentityResolver({ store, hmacKey: Buffer.alloc(32, 2), now }),
    logger: createLogger({ level: 'silent' }),
    idsFromTransactionResponse,
    facilities: new Map([[organizationId, { config: facility, client }]]),
    settings: { concurrency: 1, perFacilityConcurrency: 1, batchSize: 4, leaseMs: 60_000, timeBudgetMs: 60_000, ...opts.settings },
    policy: { ...defaultRetryPolicy, ...opts.policy },
    ...(opts.onClaim ? { onClaim: opts.onClaim } : {}),
  });
}
