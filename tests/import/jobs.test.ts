// Background import jobs (src/app/import-jobs.ts) on a fake clock: one running job per facility, a global cap, the
// facility scope, bounded row errors, failures kept as the file's reason, and finished jobs forgotten after a while.
import { ImportJobs, MAX_JOB_ERRORS, type ImportJob, type JobHooks } from '../../src/app/import-jobs.js';
import { ImportFileError, type ImportSummary } from '../../src/app/import.js';
import { gate } from '../helpers/eventually.js';

const summary = (over: Partial<ImportSummary> = {}): ImportSummary => ({
  read: 0, accepted: 0, created: 0, revised: 0, unchanged: 0, rejected: 0, errorsByKind: {}, notImportedColumns: [], unknownColumns: [], dryRun: false, ...over,
});
const info = { template: 'posyandu', dryRun: false, locale: 'id' as const };

describe('import jobs', () => {
  let now = 1_000_000;
  const jobsWith = (over: Partial<ConstructorParameters<typeof ImportJobs>[0]> = {}) => new ImportJobs({ now: () => now, ...over });
  const reserve = (jobs: ImportJobs, org: string): ImportJob => {
    const r = jobs.reserve(org, info);
    if (r.status !== 'reserved') throw new Error(r.status);
    return r.job;
  };

  it('runs one job per facility at a time and at most maxRunning in all; a released reservation frees its place', async () => {
    const jobs = jobsWith({ maxRunning: 2 });
    const first = reserve(jobs, 'A');
    expect(jobs.reserve('A', info)).toEqual({ status: 'facility-busy', jobId: first.id });
    const second = reserve(jobs, 'B');
    expect(jobs.reserve('C', info)).toEqual({ status: 'busy' });
    jobs.release(second);
    const g = gate();
    const third = reserve(jobs, 'C');
    jobs.run(third, async () => (await g.arrive(), summary({ read: 1 })));
    await g.reached;
    expect(jobs.reserve('D', info)).toEqual({ status: 'busy' });
    g.open();
    await jobs.settled(third.id);
    expect(third).toMatchObject({ state: 'done', progress: { read: 1 }, finishedAt: now });
    expect(jobs.reserve('D', info).status).toBe('reserved');
  });

  it('shows a job to its facility and the admin only', () => {
    const jobs = jobsWith();
    const job = reserve(jobs, 'A');
    expect(jobs.get(job.id, { organizationId: 'A' })).toBe(job);
    expect(jobs.get(job.id, { all: true })).toBe(job);
    expect(jobs.get(job.id, { organizationId: 'B' })).toBeUndefined();
    expect(jobs.get('unknown', { all: true })).toBeUndefined();
  });

  it('keeps progress and a bounded list of row errors; a file stop is kept as its reason; cleanup always runs', async () => {
    const jobs = jobsWith();
    const job = reserve(jobs, 'A');
    let cleaned = 0;
    const g = gate();
    jobs.run(job, async (hooks: JobHooks) => {
      for (let row = 2; row < MAX_JOB_ERRORS + 12; row++) hooks.onRowError({ row, kind: 'cell.number', message: `baris ${row}` });
      hooks.onProgress(summary({ read: 500 }));
      await g.arrive();
      throw new ImportFileError('file.xlsx-broken');
    }, () => void cleaned++);
    await g.reached;
    expect(job).toMatchObject({ state: 'running', progress: { read: 500 } });
    g.open();
    await jobs.settled(job.id);
    expect(job.errors).toHaveLength(MAX_JOB_ERRORS);
    expect(job.moreErrors).toBe(10);
    expect(job.state).toBe('failed');
    expect(job.fileError?.why).toBe('file.xlsx-broken');
    expect(cleaned).toBe(1);
  });

  it('reports an unexpected failure without keeping it, and forgets finished jobs after keepMs or beyond maxKept', async () => {
    const unexpected: unknown[] = [];
    const jobs = jobsWith({ keepMs: 60_000, maxKept: 3, onUnexpected: (err) => unexpected.push(err) });
    const broken = reserve(jobs, 'A');
    jobs.run(broken, async () => {
      throw new Error('store closed');
    });
    await jobs.settled(broken.id);
    expect(broken.state).toBe('failed');
    expect(broken.fileError).toBeUndefined();
    expect(unexpected).toHaveLength(1);

    now += 60_001;
    expect(jobs.get(broken.id, { all: true })).toBeUndefined();
    const kept: ImportJob[] = [];
    for (const org of ['A', 'B', 'C', 'D']) {
      const job = reserve(jobs, org);
      jobs.run(job, async () => summary());
      await jobs.settled(job.id);
      kept.push(job);
    }
    reserve(jobs, 'E'); // beyond 3 kept, the oldest finished jobs go first (running ones are never dropped)
    expect(jobs.get(kept[3]!.id, { all: true })).toBe(kept[3]);
    expect(jobs.size).toBe(3);
    expect([kept[0], kept[1]].map((j) => jobs.get(j!.id, { all: true }))).toEqual([undefined, undefined]);
    expect(jobs.get(kept[2]!.id, { all: true })).toBe(kept[2]);
  });
});
