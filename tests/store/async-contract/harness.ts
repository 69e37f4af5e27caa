// What every async Store contract module shares: how a suite gets a fresh store, and which claim an outcome is about.
import type { Claim, ClaimedVisit, Store } from '../../../src/store/types.js';

export interface MadeStore {
  store: Store;
  /** Closes the store and drops what it made (a database, a file). */
  cleanup(): Promise<void>;
}

export interface MakeStoreOptions {
  /** State-change events kept per visit. */
  historyPerVisit?: number;
}

/** A fresh, empty store whose clock follows the `now` arguments (these tests pass explicit times). */
export type MakeStore = (opts?: MakeStoreOptions) => Promise<MadeStore>;

/**
 * A fresh store for every test of the calling describe block (`t.store`), plus claimDue that remembers the claim it
 * handed out per visit and claimOf(org, visit, revision) giving the latest such claim: tests written for
 * revision-fenced outcomes address "the current claim" without threading it through.
 */
export function freshStore(makeStore: MakeStore) {
  let made: MadeStore | undefined;
  const seqs = new Map<string, number>();
  const key = (org: string, visitId: string) => `${org}\u0000${visitId}`;
  beforeEach(async () => {
    made = await makeStore();
    seqs.clear();
  });
  afterEach(async () => {
    await made?.cleanup();
    made = undefined;
  });
  const t = {
    get store(): Store {
      if (!made) throw new Error('no store outside a test');
      return made.store;
    },
    async claimDue(org: string, now: number, limit: number, leaseMs: number): Promise<ClaimedVisit[]> {
      const rows = await t.store.claimDue(org, now, limit, leaseMs);
      for (const r of rows) seqs.set(key(r.organizationId, r.visitId), r.claim.claimSeq);
      return rows;
    },
    claimOf(organizationId: string, visitId: string, revision: number): Claim {
      return { organizationId, visitId, revision, claimSeq: seqs.get(key(organizationId, visitId)) ?? 1 };
    },
  };
  return t;
}
