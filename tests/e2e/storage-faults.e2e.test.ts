// A real full disk under the running service: the data folder on a small tmpfs, filled up. Ingest answers 507 below
// the free-space floor and 503 + Retry-After when a write fails for want of space (never 500), nothing is
// half-written, /ready says why, and freeing space heals it. Where mounting is not allowed (not root, a container
// without CAP_SYS_ADMIN) the same checks run with the disk-full failure injected into the store.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService, DEMO_FACILITY_KEY } from '../../src/service.js';
import { captureLines, makeVisit } from './fixtures.js';

const ORG = '10000004';
const visit = (i: number) => ({ ...makeVisit(i, { organizationId: ORG }), locationCode: 'POSY-MAWAR-01' });

function tryMountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes a filler file until the file system refuses (ENOSPC), returning its path. */
function fillUp(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  const fd = fs.openSync(filler, 'w');
  try {
    for (const size of [256 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

async function call(svc: RunningService, method: string, p: string, body?: unknown) {
  const res = await fetch(`${svc.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${DEMO_FACILITY_KEY}`, 'accept-language': 'en', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined, retryAfter: res.headers.get('retry-after') };
}

const diagnostics = (r: { body?: Record<string, any> }) => (r.body?.issue ?? []).map((i: { diagnostics: string }) => i.diagnostics).join(' | ');

describe('full disk under the running service', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-fulldisk-'));
  const mounted = tryMountTmpfs(root, '4m');
  let t = Date.parse('2026-12-01T03:00:00Z');
  const clock = () => t;
  /** The real file system, or pretend: none left (injected fault), plenty (to reach the store's own failure). */
  let space: 'real' | 'none' | 'plenty' = 'real';
  const statfs = (dir: string) => (space === 'real' ? fs.statfsSync(dir) : { bavail: space === 'none' ? 0 : 1e12, bsize: space === 'none' ? 4096 : 1 });
  let svc: RunningService;
  const logs = captureLines();

  beforeAll(async () => {
    svc = await startService(
      { PORT: '0', DATA_DIR: path.join(root, 'data'), SYNC_ENABLED: 'false', DISK_FREE_FLOOR_MB: '1', INGEST_MAX_RECORDS: '50' },
      { logDestination: logs.stream, clock, statfs },
    );
  });
  afterAll(async () => {
    await svc?.close();
    if (mounted) execFileSync('umount', [root]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(`${mounted ? 'on a real 4 MB tmpfs' : 'with an injected SQLITE_FULL (mounting not allowed)'}: 507 / 503, never 500, and it recovers`, async () => {
    expect((await call(svc, 'POST', '/ilp/visits', visit(0))).status).toBe(202);
    expect((await call(svc, 'GET', '/ready')).status).toBe(200);

    // The disk fills up (another process, logs, a backup copy).
    let filler: string | undefined;
    if (mounted) filler = fillUp(root);
    else {
      space = 'none';
      (svc.store as { ingest: unknown }).ingest = () => { throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); };
    }
    t += 2_000; // past the statfs and probe caches

    // Below the floor: 507 before anything reaches the store, and /ready says why.
    const batch = Array.from({ length: 40 }, (_, i) => visit(100 + i));
    const below = await call(svc, 'POST', '/ilp/visits', batch);
    expect(below.status).toBe(507);
    expect(below.retryAfter).toMatch(/^\d+$/);
    expect(below.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'no-store' }] });
    expect(diagnostics(below)).toMatch(/Insufficient storage: free space in the data folder is 0 MB, below the floor of 1 MB/);
    const notReady = await call(svc, 'GET', '/ready');
    expect(notReady.status).toBe(503);
    expect(diagnostics(notReady)).toMatch(/Not ready: disk \(free space in the data folder is 0 MB, below the floor of 1 MB \(DISK_FREE_FLOOR_MB\)\)/);

    // With the floor out of the way the write itself fails: 503 + Retry-After, an OperationOutcome, no 500.
    space = 'plenty';
    t += 2_000;
    const failed = await call(svc, 'POST', '/ilp/visits', batch);
    expect(failed.status).toBe(503);
    expect(Number(failed.retryAfter)).toBeGreaterThan(0);
    expect(failed.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'no-store' }] });
    expect(diagnostics(failed)).toMatch(/disk holding the database is full \(SQLITE_FULL\); nothing from this request was stored/);
    if (mounted) {
      // The write probe hits the same wall.
      const probe = await call(svc, 'GET', '/ready');
      expect(probe.status).toBe(503);
      expect(diagnostics(probe)).toMatch(/Not ready: store \(cannot write: storage failure: the disk holding the database is full \(SQLITE_FULL\)\)/);
    }

    // Nothing half-written: the batch is all-or-nothing.
    expect((await svc.store.counts()).byState.queued).toBe(1);
    expect(await svc.store.getVisit(ORG, batch[0]!.visitId)).toBeUndefined();

    // Space comes back: ready again, and the same batch goes through.
    if (filler) fs.rmSync(filler);
    else delete (svc.store as { ingest?: unknown }).ingest; // the instance property shadowed the store's method
    space = 'real';
    t += 2_000;
    expect((await call(svc, 'GET', '/ready')).status).toBe(200);
    const again = await call(svc, 'POST', '/ilp/visits', batch);
    expect(again.status).toBe(202);
    expect((await svc.store.counts()).byState.queued).toBe(41);
    expect(logs.lines.some((l) => l.includes('"status":500'))).toBe(false);
  });
});
