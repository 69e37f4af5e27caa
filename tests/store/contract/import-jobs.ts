// Import jobs shared by instances: one running job per facility and a cap over every facility, counted by live
// leases; a job whose lease ended is interrupted; finished jobs are forgotten after a while. Times follow `now`.
import type { Store } from '../../../src/store/types.js';
import { freshStorePerTest, ORG, OTHER, T0, type MakeStore } from './harness.js';

const LEASE_MS = 30_000;
const job = (id: string, org = ORG) => ({ id, organizationId: org, template: 'posyandu', dryRun: false, locale: 'id' });
const progress = { read: 10, accepted: 9, created: 9, revised: 0, unchanged: 0, rejected: 1 };
const rowError = { row: 3, column: 'BB', kind: 'value', message: 'baris 3, kolom BB: bukan angka' };

export function importJobsContract(make: MakeStore): void {
  describe('import jobs', () => {
    let store: Store;
    freshStorePerTest(make, (s) => (store = s));

    it('reserves a running job any instance reads, with its progress, errors and end', async () => {
      expect(await store.reserveImportJob(job('j1'), 'inst-a', 2, LEASE_MS, T0)).toEqual({ status: 'reserved' });
      expect(await store.getImportJob('j1', T0 + 1)).toEqual({
        id: 'j1', organizationId: ORG, template: 'posyandu', dryRun: false, locale: 'id', state: 'running', startedAt: T0, errors: [], moreErrors: 0,
      });
      expect(await store.updateImportJob('j1', 'inst-a', { progress, errors: [rowError], moreErrors: 0 }, LEASE_MS, T0 + 1_000)).toBe(true);
      // Only its holder writes it.
      expect(await store.updateImportJob('j1', 'inst-b', { errors: [], moreErrors: 0 }, LEASE_MS, T0 + 1_000)).toBe(false);
      expect(await store.getImportJob('j1', T0 + 2_000)).toMatchObject({ state: 'running', progress, errors: [rowError] });
      await store.finishImportJob('j1', 'inst-a', { state: 'failed', progress, errors: [rowError], moreErrors: 5, fileError: { why: 'no-header', params: { row: 1 } } }, T0 + 3_000);
      expect(await store.getImportJob('j1', T0 + 4_000)).toMatchObject({
        state: 'failed', finishedAt: T0 + 3_000, moreErrors: 5, fileError: { why: 'no-header', params: { row: 1 } },
      });
      expect(await store.getImportJob('unknown', T0)).toBeUndefined();
    });

    it('one live job per facility, and at most maxRunning over every facility', async () => {
      await store.reserveImportJob(job('j1'), 'inst-a', 2, LEASE_MS, T0);
      expect(await store.reserveImportJob(job('j2'), 'inst-b', 2, LEASE_MS, T0 + 1)).toEqual({ status: 'facility-busy', jobId: 'j1' });
      expect(await store.reserveImportJob(job('j3', OTHER), 'inst-b', 2, LEASE_MS, T0 + 1)).toEqual({ status: 'reserved' });
      expect(await store.reserveImportJob(job('j4', '10000006'), 'inst-b', 2, LEASE_MS, T0 + 1)).toEqual({ status: 'busy' });
      await store.finishImportJob('j1', 'inst-a', { state: 'done', progress, errors: [], moreErrors: 0 }, T0 + 2);
      expect(await store.reserveImportJob(job('j2'), 'inst-b', 2, LEASE_MS, T0 + 3)).toEqual({ status: 'reserved' });
    });

    it('a running job whose lease ended is interrupted, frees its facility, and can no longer be renewed', async () => {
      await store.reserveImportJob(job('j1'), 'inst-a', 2, LEASE_MS, T0);
      expect(await store.updateImportJob('j1', 'inst-a', { progress, errors: [], moreErrors: 0 }, LEASE_MS, T0 + 20_000)).toBe(true);
      expect((await store.getImportJob('j1', T0 + 20_000 + LEASE_MS - 1))!.state).toBe('running');
      expect(await store.getImportJob('j1', T0 + 20_000 + LEASE_MS)).toMatchObject({ state: 'interrupted', finishedAt: T0 + 20_000 + LEASE_MS, progress });
      expect(await store.updateImportJob('j1', 'inst-a', { errors: [], moreErrors: 0 }, LEASE_MS, T0 + 60_000)).toBe(false);
      expect(await store.reserveImportJob(job('j2'), 'inst-b', 1, LEASE_MS, T0 + 60_000)).toEqual({ status: 'reserved' });
    });

    it('drops a refused reservation, and forgets ended jobs after a while or beyond maxKept (the newest kept)', async () => {
      await store.reserveImportJob(job('j0'), 'inst-a', 5, LEASE_MS, T0);
      await store.dropImportJob('j0', 'inst-a');
      expect(await store.getImportJob('j0', T0)).toBeUndefined();
      for (const [i, id] of ['j1', 'j2', 'j3'].entries()) {
        await store.reserveImportJob(job(id), 'inst-a', 5, LEASE_MS, T0 + i * 1_000);
        await store.finishImportJob(id, 'inst-a', { state: 'done', errors: [], moreErrors: 0 }, T0 + i * 1_000 + 10);
      }
      await store.reserveImportJob(job('live', OTHER), 'inst-a', 5, LEASE_MS, T0 + 5_000);
      expect(await store.forgetImportJobs(T0 + 500, 10, T0 + 5_000)).toBe(1);
      expect(await store.getImportJob('j1', T0 + 5_000)).toBeUndefined();
      expect(await store.forgetImportJobs(T0, 1, T0 + 5_000)).toBe(1);
      expect(await store.getImportJob('j2', T0 + 5_000)).toBeUndefined();
      expect(await store.getImportJob('j3', T0 + 5_000)).toBeDefined();
      expect((await store.getImportJob('live', T0 + 5_000))!.state).toBe('running');
    });
  });
}
