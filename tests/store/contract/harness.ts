// What every contract section shares: how it gets a store, and the fixtures. An implementation's test file passes a
// `MakeStore` that opens a fresh, empty store (and `cleanup` closes and removes it).
import type { OperationOutcome } from 'fhir/r4.js';
import type { IngestItem, Store } from '../../../src/store/types.js';

export interface StoreUnderTest {
  store: Store;
  /** Closes the store and removes what it left (files, a schema). */
  cleanup: () => Promise<void>;
}

export interface MakeStoreOptions {
  /** State-change events kept per visit (default 50). */
  historyPerVisit?: number;
}

/** A fresh, empty store whose clock follows the `now` arguments (these tests pass explicit times). */
export type MakeStore = (opts?: MakeStoreOptions) => Promise<StoreUnderTest>;

/** A fresh store for every test of the enclosing describe, handed to `set`. */
export function freshStorePerTest(make: MakeStore, set: (store: Store) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const made = await make();
    set(made.store);
    cleanup = made.cleanup;
  });
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });
}

export const ORG = '10000004';
export const OTHER = '10000005';
export const T0 = 1_750_000_000_000;
export const LEASE = 60_000;

export const item = (visitId: string, hash: string, org = ORG, record: unknown = { visitId, v: hash }): IngestItem =>
  ({ organizationId: org, visitId, record, contentHash: hash });

export const oo = (text: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'value', diagnostics: text, details: { text } }],
});
