// Background import jobs (src/app/import-jobs.ts) on a fake clock, their records in a store two instances share (one
// SQLite database): one running job per facility and a global cap across instances, the facility scope, bounded row
// errors, failures kept as the file's reason, a job of a dead instance shown as interrupted, finished jobs forgotten.
import { ImportJobs, MAX_JOB_ERRORS, type ImportJob, type ImportJobsOptions, type JobHooks } from '../../src/app/import-jobs.js';
import { ImportFileError, type ImportSummary } from '../../src/app/import.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { gate } from '../helpers/eventually.js';

const summary = (over: Partial<ImportSummary> = {}): ImportSummary => ({
  read: 0, accepted: 0, created: 0, revised: 0, unchanged: 0, rejected: 0, errorsByKind: {}, notImportedColumns: [], unknownColumns: [], dryRun: false, ...over,
});
const info = { template: 'posyandu', dryRun: false, locale: 'id' as const };

describe('import jobs', () => {
  let now = 1_000_000;
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });
  const jobsWith = (over: Partial<ImportJobsOptions> = {}) => new ImportJobs({ store, now: () => now, ...over });
  const reserve = async (jobs: ImportJobs, org: string): Promise<ImportJob> => {
    const r = await jobs.reserve(org, info);
    if (r.status !== 'reserved') throw new Error(r.status);
    return r.job;
  };

  it('runs one job per facility at a time and at most maxRunning in all, over both instances; a released reservation frees its place', async () => {
    const [one, two] = [jobsWith({ maxRunning: 2 }), jobsWith({ maxRunning: 2 })];
    const first = await reserve(one, 'A');
    expect(await two.reserve('A', info)).toEqual({ status: 'facility-busy', jobId: first.id });
    const second = await reserve(two, 'B');
    expect(await one.reserve('C', info)).toEqual({ status: 'busy' });
    await two.release(second);
    expect(two.size).toBe(0);
    const g = gate();
    const third = await reserve(two, 'C');
    two.run(third, async () => (await g.arrive(), summary({ read: 1 })));
    await g.reached;
    expect(await one.reserve('D', info)).toEqual({ status: 'busy' });
    g.open();
    await two.settled(third.id);
    expect(third).toMatchObject({ state: 'done', progress: { read: 1 }, finishedAt: now });
    // The other instance answers the page of a job it did not run.
    expect(await one.get(third.id, { organizationId: 'C' })).toMatchObject({ id: third.id, state: 'done', progress: { read: 1 }, finishedAt: now });
    expect((await one.reserve('D', info)).status).toBe('reserved');
  });

  it('shows a job to its facility and the admin only, on any instance', async () => {
    const jobs = jobsWith();
    const job = await reserve(jobs, 'A');
    const other = jobsWith();
    expect(await other.get(job.id, { organizationId: 'A' })).toMatchObject({ id: job.id, organizationId: 'A', state: 'running', template: 'posyandu' });
    expect(await other.get(job.id, { all: true })).toMatchObject({ id: job.id });
    expect(await other.get(job.id, { organizationId: 'B' })).toBeUndefined();
    expect(await other.get('unknown', { all: true })).toBeUndefined();
  });

  it('keeps progress and a bounded list of row errors in the store; a file stop is kept as its reason; cleanup always runs', async () => {
    const jobs = jobsWith();
    const other = jobsWith();
    const job = await reserve(jobs, 'A');
    let cleaned = 0;
    const g = gate();
    jobs.run(job, async (hooks: JobHooks) => {
      for (let row = 2; row < MAX_JOB_ERRORS + 12; row++) hooks.onRowError({ row, kind: 'cell.number', message: `baris ${row}` });
      hooks.onProgress(summary({ read: 500 }));
      await g.arrive();
      throw new ImportFileError('file.xlsx-broken', { sheet: 1 });
    }, () => void cleaned++);
    await g.reached;
    expect(await other.get(job.id, { all: true })).toMatchObject({ state: 'running', progress: { read: 500 }, moreErrors: 10 });
    g.open();
    await jobs.settled(job.id);
    const seen = (await other.get(job.id, { all: true }))!;
    expect(seen.errors).toHaveLength(MAX_JOB_ERRORS);
    expect(seen.errors[0]).toEqual({ row: 2, kind: 'cell.number', message: 'baris 2' });
    expect(seen.moreErrors).toBe(10);
    expect(seen.state).toBe('failed');
    expect(seen.fileError).toBeInstanceOf(ImportFileError);
    expect(seen.fileError).toMatchObject({ why: 'file.xlsx-broken', params: { sheet: 1 } });
    expect(cleaned).toBe(1);
  });

  it('shows the running job of an instance that died as interrupted once its lease ends, and frees its facility', async () => {
    const dead = jobsWith({ leaseMs: 30_000 });
    const job = await reserve(dead, 'A'); // reserved, and its instance never renews it again
    const live = jobsWith({ leaseMs: 30_000 });
    now += 29_999;
    expect((await live.get(job.id, { organizationId: 'A' }))!.state).toBe('running');
    expect((await live.reserve('A', info)).status).toBe('facility-busy');
    now += 1;
    expect(await live.get(job.id, { organizationId: 'A' })).toMatchObject({ state: 'interrupted', finishedAt: now });
    expect((await live.reserve('A', info)).status).toBe('reserved');
    now = 1_000_000;
  });

  it('reports an unexpected failure without keeping it, and forgets finished jobs after keepMs or beyond maxKept', async () => {
    const unexpected: unknown[] = [];
    const jobs = jobsWith({ keepMs: 60_000, maxKept: 3, onUnexpected: (err) => unexpected.push(err) });
    const broken = await reserve(jobs, 'A');
    jobs.run(broken, async () => {
      throw new Error('store closed');
    });
    await jobs.settled(broken.id);
    expect(broken.state).toBe('failed');
    expect((await jobs.get(broken.id, { all: true }))!.fileError).toBeUndefined();
    expect(unexpected).toHaveLength(1);

    now += 60_001;
    await reserve(jobs, 'Z').then((j) => jobs.release(j)); // a reservation sweeps
    expect(await jobs.get(broken.id, { all: true })).toBeUndefined();
    const kept: ImportJob[] = [];
    for (const org of ['A', 'B', 'C', 'D']) {
      const job = await reserve(jobs, org);
      jobs.run(job, async () => summary());
      await jobs.settled(job.id);
      kept.push(job);
      now += 1;
    }
    await reserve(jobs, 'E'); // beyond 3 kept, the oldest finished jobs go first (running ones are never dropped)
    expect(await jobs.get(kept[0]!.id, { all: true })).toBeUndefined();
    for (const j of kept.slice(1)) expect((await jobs.get(j.id, { all: true }))!.state).toBe('done');
  });
});
