// Console sessions shared by instances: kept under the hash of their id, their idle clock restarted by a read at most
// every touchMs, an expired one gone, a bound on live ones (the least recently seen dropped), the one-shot flash. Times follow `now`.
import type { Store } from '../../../src/store/types.js';
import { freshStorePerTest, T0, type MakeStore } from './harness.js';

const IDLE_MS = 60_000;
const TOUCH_MS = 30_000;
const session = (n: number) => ({ keyHash: `key-hash-${n}`, csrf: `csrf-${n}` });

export function consoleSessionsContract(make: MakeStore): void {
  describe('console sessions', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    it('keeps a session any instance reads, and deletes it everywhere', async () => {
      await store.createConsoleSession('id-hash-1', session(1), IDLE_MS, 10, T0);
      expect(await store.getConsoleSession('id-hash-1', IDLE_MS, TOUCH_MS, T0 + 1)).toEqual({ keyHash: 'key-hash-1', csrf: 'csrf-1', lastSeen: T0 });
      expect(await store.getConsoleSession('unknown', IDLE_MS, TOUCH_MS, T0 + 1)).toBeUndefined();
      expect(await store.countConsoleSessions(IDLE_MS, T0 + 1)).toBe(1);
      await store.deleteConsoleSession('id-hash-1');
      expect(await store.getConsoleSession('id-hash-1', IDLE_MS, TOUCH_MS, T0 + 2)).toBeUndefined();
      expect(await store.countConsoleSessions(IDLE_MS, T0 + 2)).toBe(0);
    });

    it('restarts the idle clock on use, writing it only when touchMs old; an idle one expires and is gone', async () => {
      await store.createConsoleSession('s', session(1), IDLE_MS, 10, T0);
      // Used before touchMs: lastSeen stays as written.
      expect((await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + TOUCH_MS - 1))!.lastSeen).toBe(T0);
      expect((await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + TOUCH_MS))!.lastSeen).toBe(T0 + TOUCH_MS);
      expect((await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + TOUCH_MS + 1))!.lastSeen).toBe(T0 + TOUCH_MS);
      // Alive up to idleMs after the written last use, gone after.
      expect(await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + TOUCH_MS + IDLE_MS)).toBeDefined();
      const later = T0 + TOUCH_MS + IDLE_MS; // that read restarted the clock at `later`
      expect(await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, later + IDLE_MS + 1)).toBeUndefined();
      expect(await store.countConsoleSessions(IDLE_MS, T0)).toBe(0); // deleted, not only refused
      expect(await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, later)).toBeUndefined();
    });

    it('a sign-in sweeps expired sessions and keeps at most maxSessions, dropping the least recently seen', async () => {
      await store.createConsoleSession('old', session(0), IDLE_MS, 3, T0);
      await store.createConsoleSession('a', session(1), IDLE_MS, 3, T0 + 40_000);
      await store.createConsoleSession('b', session(2), IDLE_MS, 3, T0 + 50_000);
      // 'a' used later than 'b': 'b' is now the least recently seen.
      await store.getConsoleSession('a', IDLE_MS, TOUCH_MS, T0 + 90_000);
      // 'old' expired at T0 + IDLE_MS: swept, not counted against the bound.
      await store.createConsoleSession('c', session(3), IDLE_MS, 3, T0 + 95_000);
      expect(await store.countConsoleSessions(IDLE_MS, T0 + 95_000)).toBe(3);
      expect(await store.countConsoleSessions(IDLE_MS * 100, T0 + 95_000)).toBe(3); // 'old' is gone, not only expired
      await store.createConsoleSession('d', session(4), IDLE_MS, 3, T0 + 96_000);
      expect(await store.getConsoleSession('b', IDLE_MS, TOUCH_MS, T0 + 96_000)).toBeUndefined();
      for (const id of ['a', 'c', 'd']) expect(await store.getConsoleSession(id, IDLE_MS, TOUCH_MS, T0 + 96_000)).toBeDefined();
    });

    it('a flash is kept until cleared, and a clear leaves a newer flash alone', async () => {
      await store.createConsoleSession('s', session(1), IDLE_MS, 10, T0);
      await store.setConsoleFlash('s', 'Kunjungan V1 diantrekan lagi.');
      expect((await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + 1))!.flash).toBe('Kunjungan V1 diantrekan lagi.');
      await store.setConsoleFlash('s', 'Fasilitas dijeda.');
      await store.clearConsoleFlash('s', 'Kunjungan V1 diantrekan lagi.');
      expect((await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + 2))!.flash).toBe('Fasilitas dijeda.');
      await store.clearConsoleFlash('s', 'Fasilitas dijeda.');
      expect(await store.getConsoleSession('s', IDLE_MS, TOUCH_MS, T0 + 3)).not.toHaveProperty('flash');
    });

    it('refuses an empty id hash and bad durations', async () => {
      await expect(store.createConsoleSession('', session(1), IDLE_MS, 10, T0)).rejects.toThrow(TypeError);
      await expect(store.createConsoleSession('s', session(1), IDLE_MS, 0, T0)).rejects.toThrow(TypeError);
      await expect(store.getConsoleSession('s', IDLE_MS, TOUCH_MS, Number.NaN)).rejects.toThrow(TypeError);
    });
  });
}
