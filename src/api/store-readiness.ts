// GET /ready check `store`: one tiny commit (Store.probeWrite), so a store that still reads but can no longer write
// (disk full, read-only, locked, damaged) takes the instance out of rotation. Cached briefly: /ready is open to anyone
// and must not become a way to make the service commit as fast as it is asked.
import type { Store } from '../store/types.js';
import { StorageError } from '../store/storage-error.js';
import { NotReady, type ReadinessCheck } from './health.js';

export function storeWriteCheck(store: Store, opts: { now?: () => number; cacheMs?: number } = {}): ReadinessCheck {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 1000;
  // The probe itself is cached (not only its answer): requests arriving while it runs share it.
  let last: { at: number; failure: Promise<string | undefined> } | undefined;
  const probe = async (t: number): Promise<string | undefined> => {
    try {
      if (store.probeWrite) await store.probeWrite(t);
      else await store.counts();
      return undefined;
    } catch (e) {
      // The StorageError text is content-free by construction; anything else is named only by its type.
      return e instanceof StorageError ? `cannot write: ${e.message}` : 'cannot write (unexpected error, see the log)';
    }
  };
  return {
    name: 'store',
    check: async () => {
      const t = now();
      if (!last || t - last.at >= cacheMs || t < last.at) last = { at: t, failure: probe(t) };
      const failure = await last.failure;
      if (failure) throw new NotReady(failure);
      return true;
    },
  };
}
