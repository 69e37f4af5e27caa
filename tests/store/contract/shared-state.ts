// What several instances coordinate through: the sliding-window quota per credential, the shared token cache and
// named leases. The store's clock follows the `now` arguments here (see MakeStore).
import type { Store } from '../../../src/store/types.js';
import { freshStorePerTest, ORG, OTHER, T0, type MakeStore } from './harness.js';

export function sharedStateContract(make: MakeStore): void {
  describe('shared quota (sliding window per credential)', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    it('grants `limit` points in any window, then says exactly when the oldest leaves it', async () => {
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0)).toEqual({ granted: true, at: T0 });
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 100)).toEqual({ granted: true, at: T0 + 100 });
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 200)).toEqual({ granted: true, at: T0 + 200 });
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 300)).toEqual({ granted: false, retryInMs: 700 });
      // Sliding, not fixed: at T0+999 the first grant is still in the window; at T0+1000 it has left.
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 999)).toEqual({ granted: false, retryInMs: 1 });
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 1_000)).toEqual({ granted: true, at: T0 + 1_000 });
      expect(await store.takeQuotaPoint(ORG, 3, 1_000, T0 + 1_050)).toEqual({ granted: false, retryInMs: 50 });
    });

    it('counts each credential apart', async () => {
      expect((await store.takeQuotaPoint(ORG, 1, 1_000, T0)).granted).toBe(true);
      expect((await store.takeQuotaPoint(ORG, 1, 1_000, T0)).granted).toBe(false);
      expect((await store.takeQuotaPoint(OTHER, 1, 1_000, T0)).granted).toBe(true);
    });

    it('a lowered limit waits until enough grants have left the window', async () => {
      for (let i = 0; i < 4; i++) expect((await store.takeQuotaPoint(ORG, 4, 1_000, T0 + i * 10)).granted).toBe(true);
      // Limit 2 now: the 2nd newest grant (T0+20) must leave first.
      expect(await store.takeQuotaPoint(ORG, 2, 1_000, T0 + 40)).toEqual({ granted: false, retryInMs: 980 });
    });

    it('a pause holds every point of the credential until it ends, and is never shortened', async () => {
      await store.pauseQuota(ORG, 5_000, T0);
      await store.pauseQuota(ORG, 1_000, T0 + 10);
      expect(await store.takeQuotaPoint(ORG, 10, 60_000, T0 + 1_000)).toEqual({ granted: false, retryInMs: 4_000 });
      expect((await store.takeQuotaPoint(OTHER, 10, 60_000, T0 + 1_000)).granted).toBe(true);
      expect(await store.takeQuotaPoint(ORG, 10, 60_000, T0 + 5_000)).toEqual({ granted: true, at: T0 + 5_000 });
    });

    it('counts the grants of the last hour per minute, for the overview: every grant of the credential, refusals not', async () => {
      const hour = 3_600_000;
      const start = T0 - (T0 % 60_000); // a minute's start
      for (let i = 0; i < 3; i++) expect((await store.takeQuotaPoint(ORG, 2, 1_000, start + i * 10)).granted).toBe(i < 2);
      await store.takeQuotaPoint(ORG, 2, 1_000, start + 30 * 60_000);
      await store.takeQuotaPoint(OTHER, 2, 1_000, start + 30 * 60_000);
      expect(await store.quotaUse(ORG, hour, start + 59 * 60_000)).toEqual({ requests: 3, since: start });
      expect(await store.quotaUse(OTHER, hour, start + 59 * 60_000)).toEqual({ requests: 1, since: start });
      // An hour later the first minute has left the window; the minute in the middle is still in it.
      expect(await store.quotaUse(ORG, hour, start + hour)).toEqual({ requests: 1, since: start + 60_000 });
      expect(await store.quotaUse(ORG, hour, start + 2 * hour)).toEqual({ requests: 0, since: start + hour + 60_000 });
      expect(await store.quotaUse('10000099', hour, start)).toEqual({ requests: 0, since: start - hour + 60_000 });
    });

    it('prunes the per-minute counts older than two hours as it grants', async () => {
      const start = T0 - (T0 % 60_000);
      await store.takeQuotaPoint(ORG, 5, 1_000, start);
      await store.takeQuotaPoint(ORG, 5, 1_000, start + 2 * 3_600_000 + 60_000);
      // A window reaching back past the kept hours finds only what is kept.
      expect((await store.quotaUse(ORG, 3 * 3_600_000, start + 2 * 3_600_000 + 60_000)).requests).toBe(1);
    });

    it('refuses bad arguments', async () => {
      await expect(store.quotaUse('', 60_000, T0)).rejects.toThrow(TypeError);
      await expect(store.takeQuotaPoint('', 1, 1_000, T0)).rejects.toThrow(TypeError);
      await expect(store.takeQuotaPoint(ORG, 0, 1_000, T0)).rejects.toThrow(TypeError);
      await expect(store.takeQuotaPoint(ORG, 1, 0, T0)).rejects.toThrow(TypeError);
      await expect(store.pauseQuota(ORG, -1, T0)).rejects.toThrow(TypeError);
    });
  });

  describe('shared token cache', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));
    const authError = { kind: 'auth', status: 401, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] } };

    it('keeps a token with its expiry and refresh time, live parts only', async () => {
      expect(await store.getSharedToken(ORG, T0)).toEqual({});
      await store.putSharedToken(ORG, { token: { value: 'TOK-1', lifetimeMs: 3_600_000, refreshInMs: 3_300_000 } }, 'i1', T0);
      expect(await store.getSharedToken(ORG, T0 + 1_000)).toEqual({ token: { value: 'TOK-1', expiresInMs: 3_599_000, refreshInMs: 3_299_000 } });
      expect(await store.getSharedToken(OTHER, T0 + 1_000)).toEqual({});
      // Past its refresh time it is still shown (usable while another instance refreshes); past its expiry it is gone.
      expect((await store.getSharedToken(ORG, T0 + 3_400_000)).token).toMatchObject({ value: 'TOK-1', refreshInMs: 0 });
      expect(await store.getSharedToken(ORG, T0 + 3_600_000)).toEqual({});
    });

    it('a failed request leaves a block every reader sees until it ends; a later token lifts it', async () => {
      await store.putSharedToken(ORG, { block: { state: 'auth-failed', durationMs: 60_000, error: authError } }, 'i1', T0);
      expect(await store.getSharedToken(ORG, T0 + 10_000)).toEqual({ block: { state: 'auth-failed', retryInMs: 50_000, error: authError } });
      expect(await store.getSharedToken(ORG, T0 + 60_000)).toEqual({});
      await store.putSharedToken(ORG, { block: { state: 'unavailable', durationMs: 5_000, error: null } }, 'i1', T0 + 60_000);
      await store.putSharedToken(ORG, { token: { value: 'TOK-2', lifetimeMs: 100_000, refreshInMs: 50_000 } }, 'i1', T0 + 61_000);
      expect(await store.getSharedToken(ORG, T0 + 62_000)).toEqual({ token: { value: 'TOK-2', expiresInMs: 99_000, refreshInMs: 49_000 } });
    });

    it('drops a token only while it is the one named (compare-and-delete after a 401)', async () => {
      await store.putSharedToken(ORG, { token: { value: 'NEW', lifetimeMs: 100_000, refreshInMs: 50_000 } }, 'i1', T0);
      await store.dropSharedToken(ORG, 'OLD'); // a late 401 for the token before
      expect((await store.getSharedToken(ORG, T0)).token?.value).toBe('NEW');
      await store.dropSharedToken(ORG, 'NEW');
      expect(await store.getSharedToken(ORG, T0)).toEqual({});
      await store.putSharedToken(ORG, { token: { value: 'NEWER', lifetimeMs: 100_000, refreshInMs: 50_000 } }, 'i1', T0);
      await store.dropSharedToken(ORG);
      expect(await store.getSharedToken(ORG, T0)).toEqual({});
    });

    it('storing the token releases the fetch lease of its holder', async () => {
      expect(await store.tryLease(`token:${ORG}`, 'i1', 30_000, T0)).toBe(true);
      expect(await store.tryLease(`token:${ORG}`, 'i2', 30_000, T0 + 1)).toBe(false);
      await store.putSharedToken(ORG, { token: { value: 'T', lifetimeMs: 100_000, refreshInMs: 50_000 } }, 'i1', T0 + 2);
      expect(await store.tryLease(`token:${ORG}`, 'i2', 30_000, T0 + 3)).toBe(true);
    });
  });

  describe('leases', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    it('one holder at a time; its own renewal; free again when released or expired', async () => {
      expect(await store.tryLease('identity:x', 'a', 1_000, T0)).toBe(true);
      expect(await store.tryLease('identity:x', 'b', 1_000, T0 + 10)).toBe(false);
      expect(await store.tryLease('identity:y', 'b', 1_000, T0 + 10)).toBe(true);
      expect(await store.tryLease('identity:x', 'a', 1_000, T0 + 500)).toBe(true); // renewed to T0+1500
      expect(await store.tryLease('identity:x', 'b', 1_000, T0 + 1_200)).toBe(false);
      expect(await store.tryLease('identity:x', 'b', 1_000, T0 + 1_500)).toBe(true); // expired: taken over
      await store.releaseLease('identity:x', 'a'); // no longer a's: nothing happens
      expect(await store.tryLease('identity:x', 'a', 1_000, T0 + 1_600)).toBe(false);
      await store.releaseLease('identity:x', 'b');
      expect(await store.tryLease('identity:x', 'a', 1_000, T0 + 1_600)).toBe(true);
    });
  });
}
