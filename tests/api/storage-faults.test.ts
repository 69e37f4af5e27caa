// Storage faults over HTTP: StorageError → 503 + Retry-After + OperationOutcome (never a bare 500), the disk floor
// (507 on ingest, /ready says why, statfs cached and injected), and the store write probe behind /ready.
import express from 'express';
import request from 'supertest';
import { errorHandler, STORAGE_OPERATOR_RETRY_AFTER_S, STORAGE_RETRY_AFTER_S } from '../../src/api/errors.js';
import { healthRouter, NotReady } from '../../src/api/health.js';
import { createDiskFloor } from '../../src/api/disk-floor.js';
import { storeWriteCheck } from '../../src/api/store-readiness.js';
import { StorageError, toStorageError } from '../../src/store/storage-error.js';
import { errorText } from '../../src/i18n/issues.js';
import { startupFailureText } from '../../src/startup-text.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { logCapture } from './helpers.js';

const MB = 1024 * 1024;
const driverError = (code: string) => Object.assign(new Error(`low-level text ${code}`), { code });

function appThrowing(err: unknown, logs = logCapture()) {
  const app = express();
  app.post('/ilp/visits', () => {
    throw err;
  });
  app.use(errorHandler(logs.logger));
  return app;
}

describe('StorageError in the API error handler', () => {
  it.each([
    ['SQLITE_FULL', 'no-store', STORAGE_RETRY_AFTER_S, /disk holding the database is full \(SQLITE_FULL\)/],
    ['SQLITE_IOERR_WRITE', 'no-store', STORAGE_RETRY_AFTER_S, /I\/O error\) \(SQLITE_IOERR_WRITE\)/],
    ['SQLITE_BUSY', 'lock-error', STORAGE_RETRY_AFTER_S, /locked by another process/],
    ['SQLITE_CORRUPT', 'no-store', STORAGE_OPERATOR_RETRY_AFTER_S, /damaged \(run `ilp-adapter store check`\)/],
    ['SQLITE_READONLY', 'no-store', STORAGE_OPERATOR_RETRY_AFTER_S, /read-only/],
    ['ENOSPC', 'no-store', STORAGE_RETRY_AFTER_S, /full \(ENOSPC\)/],
  ])('%s → 503, Retry-After, OperationOutcome %s', async (code, issueCode, retryAfter, text) => {
    const logs = logCapture();
    const r = await request(appThrowing(toStorageError(driverError(code)), logs)).post('/ilp/visits').set('Accept-Language', 'en').expect(503);
    expect(r.headers['retry-after']).toBe(String(retryAfter));
    expect(r.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(r.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: issueCode }] });
    expect(r.body.issue[0].diagnostics).toMatch(text);
    expect(r.body.issue[0].diagnostics).toMatch(/nothing from this request was stored/);
    expect(logs.text()).toContain(`"code":"${code}"`);
    expect(logs.text()).not.toContain('low-level text');
  });

  it('says the failure in Bahasa Indonesia by default (the driver code as it is); the CLI and start-up say it the same way', async () => {
    const err = toStorageError(driverError('SQLITE_FULL'))!;
    const r = await request(appThrowing(err)).post('/ilp/visits').expect(503);
    expect(r.body.issue[0].diagnostics).toBe(
      'Layanan tidak dapat memakai basis datanya: disk tempat basis data penuh (SQLITE_FULL); tidak ada data dari permintaan ini yang disimpan, kirim lagi nanti');
    expect(errorText(err, 'id')).toBe('kegagalan penyimpanan: disk tempat basis data penuh (SQLITE_FULL)');
    expect(errorText(err, 'en')).toBe(err.message);
    expect(startupFailureText(toStorageError(driverError('SQLITE_READONLY')), 'id'))
      .toBe('ilp-adapter: gagal dijalankan: kegagalan penyimpanan: berkas basis data atau foldernya hanya-baca (SQLITE_READONLY)');
  });

  it('an error that is not a storage fault is still the 500 with an incident id', async () => {
    const r = await request(appThrowing(new Error('boom'))).post('/ilp/visits').set('Accept-Language', 'en').expect(500);
    expect(r.body.issue[0].diagnostics).toMatch(/incident was logged with id/);
  });
});

describe('disk floor', () => {
  const fakeStatfs = (free: { bytes: number; calls: number; fail?: boolean }) => () => {
    free.calls++;
    if (free.fail) throw driverError('ENOENT');
    return { bavail: BigInt(Math.floor(free.bytes / 4096)), bsize: 4096n };
  };

  function appWith(floorMb: number, free: { bytes: number; calls: number; fail?: boolean }, clock: { t: number }) {
    const floor = createDiskFloor({ dir: '/data', floorBytes: floorMb * MB, statfs: fakeStatfs(free), now: () => clock.t });
    const app = express();
    app.use(floor.ingestRouter);
    app.post('/ilp/visits', (_req, res) => void res.status(202).json({ stored: true }));
    app.use(healthRouter([floor.readiness], new Date(0)));
    return app;
  }

  it('below the floor: ingest 507 with an OperationOutcome, /ready 503 saying why; above it both pass', async () => {
    const free = { bytes: 150 * MB, calls: 0 };
    const clock = { t: 0 };
    const app = appWith(200, free, clock);
    const r = await request(app).post('/ilp/visits').expect(507);
    expect(r.headers['retry-after']).toBe('60');
    expect(r.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'no-store' }] });
    expect(r.body.issue[0].diagnostics).toBe(
      'Ruang penyimpanan tidak cukup: ruang kosong di folder data 150 MB, di bawah batas 200 MB (DISK_FREE_FLOOR_MB); tidak ada yang disimpan, kirim lagi catatan-catatannya nanti');
    const english = await request(app).post('/ilp/visits').set('Accept-Language', 'en').expect(507);
    expect(english.body.issue[0].diagnostics).toBe(
      'Insufficient storage: free space in the data folder is 150 MB, below the floor of 200 MB (DISK_FREE_FLOOR_MB); nothing was stored, send the records again later');
    const ready = await request(app).get('/ready').expect(503);
    expect(ready.body.issue[0].diagnostics).toBe('Not ready: disk (free space in the data folder is 150 MB, below the floor of 200 MB (DISK_FREE_FLOOR_MB))');
    free.bytes = 250 * MB;
    clock.t += 1000;
    await request(app).post('/ilp/visits').expect(202);
    expect((await request(app).get('/ready').expect(200)).body.checks).toContain('disk');
  });

  it('asks statfs at most once per second, however many requests come', async () => {
    const free = { bytes: 500 * MB, calls: 0 };
    const clock = { t: 10_000 };
    const app = appWith(200, free, clock);
    for (let i = 0; i < 5; i++) await request(app).post('/ilp/visits').expect(202);
    await request(app).get('/ready').expect(200);
    expect(free.calls).toBe(1);
    free.bytes = 10 * MB;
    clock.t += 999;
    await request(app).post('/ilp/visits').expect(202); // cached answer
    clock.t += 1;
    await request(app).post('/ilp/visits').expect(507);
    expect(free.calls).toBe(2);
  });

  it('DISK_FREE_FLOOR_MB=0 turns it off; a failing statfs does not block ingest', async () => {
    const off = { bytes: 0, calls: 0 };
    await request(appWith(0, off, { t: 0 })).post('/ilp/visits').expect(202);
    expect(off.calls).toBe(0);
    await request(appWith(200, { bytes: 0, calls: 0, fail: true }, { t: 0 })).post('/ilp/visits').expect(202);
  });
});

describe('store write probe for /ready', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore({ file: ':memory:' });
  });
  afterEach(() => store.close());

  it('commits a probe row; a failing write makes /ready 503 with the reason; cached for a second', async () => {
    const clock = { t: 5_000 };
    const app = express().use(healthRouter([storeWriteCheck(store, { now: () => clock.t })], new Date(0)));
    await request(app).get('/ready').expect(200);
    const inner = store as unknown as { s: { probe: { run: (t: number) => unknown } } };
    const real = inner.s.probe;
    let calls = 0;
    inner.s.probe = { run: () => { calls++; throw driverError('SQLITE_FULL'); } };
    await request(app).get('/ready').expect(200); // still the cached answer
    clock.t += 1000;
    const r = await request(app).get('/ready').expect(503);
    expect(r.body.issue[0].diagnostics).toBe('Not ready: store (cannot write: storage failure: the disk holding the database is full (SQLITE_FULL))');
    await request(app).get('/ready').expect(503);
    expect(calls).toBe(1);
    inner.s.probe = real;
    clock.t += 1000;
    await request(app).get('/ready').expect(200);
  });

  it('names only NotReady reasons: another error is not echoed', async () => {
    const app = express().use(healthRouter([
      { name: 'a', check: () => { throw new Error('secret detail'); } },
      { name: 'b', check: () => { throw new NotReady('disk is full'); } },
    ], new Date(0)));
    const r = await request(app).get('/ready').expect(503);
    expect(r.body.issue.map((i: { diagnostics: string }) => i.diagnostics)).toEqual(['Not ready: a', 'Not ready: b (disk is full)']);
    expect(JSON.stringify(r.body)).not.toContain('secret detail');
  });

  it('StorageError carries its state in fields', () => {
    const e = new StorageError('SQLITE_FULL', 'full', true);
    expect([e.name, e.code, e.fault, e.retryable]).toEqual(['StorageError', 'SQLITE_FULL', 'full', true]);
  });
});
