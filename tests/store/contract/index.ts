// The Store contract: what every implementation (SQLite, PostgreSQL, …) must do, as one suite. An implementation's
// test calls `describeStoreContract('name', makeStore)`; implementation specifics (files, PRAGMA, crash and corruption
// tests, migrations from an older schema) stay in that implementation's own tests.
import { apiKeysContract } from './api-keys.js';
import { dueSplitContract } from './due-split.js';
import { fencingContract } from './fencing.js';
import { forgetPlatformIdsContract } from './forget-platform-ids.js';
import { ledgerContract } from './ledger.js';
import { outboxContract } from './outbox.js';
import { queriesContract } from './queries.js';
import { weighingsContract } from './weighings.js';
import { sharedStateContract } from './shared-state.js';
import { importJobsContract } from './import-jobs.js';
import { consoleSessionsContract } from './console-sessions.js';
import type { MakeStore } from './harness.js';

export type { MakeStore, MakeStoreOptions, StoreUnderTest } from './harness.js';

export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    outboxContract(makeStore);
    fencingContract(makeStore);
    queriesContract(makeStore);
    ledgerContract(makeStore);
    forgetPlatformIdsContract(makeStore);
    weighingsContract(makeStore);
    apiKeysContract(makeStore);
    dueSplitContract(makeStore);
    sharedStateContract(makeStore);
    importJobsContract(makeStore);
    consoleSessionsContract(makeStore);
  });
}
