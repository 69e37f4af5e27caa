// The async Store contract: every implementation runs this (`describeAsyncStoreContract(name, makeStore)`). Only
// behaviour seen through the interface; files, pragmas, pools and migrations from older schemas are tested per store.
import { apiKeysContract } from './api-keys.js';
import { dueSplitAndForgetContract } from './due-split-forget.js';
import { fencingContract } from './fencing.js';
import type { MakeStore } from './harness.js';
import { ledgerContract } from './ledger.js';
import { outboxContract } from './outbox.js';
import { queriesContract } from './queries.js';
import { weighingsContract } from './weighings.js';

export type { MadeStore, MakeStore, MakeStoreOptions } from './harness.js';

export function describeAsyncStoreContract(name: string, makeStore: MakeStore): void {
  describe(`${name}: Store contract`, () => {
    describe('outbox', () => outboxContract(makeStore));
    describe('fencing', () => fencingContract(makeStore));
    describe('queries', () => queriesContract(makeStore));
    describe('weighings', () => weighingsContract(makeStore));
    describe('api keys', () => apiKeysContract(makeStore));
    describe('ledger', () => ledgerContract(makeStore));
    describe('due split, forgetting platform ids, probe', () => dueSplitAndForgetContract(makeStore));
  });
}
