// The validation pool: large $validate bodies go to a worker (a gated one here, so "busy" is a state the test
// sets, not a race), small ones stay inline, and a full queue answers 503 + Retry-After.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { createApp } from '../../src/api/app.js';
import { createValidationPool, defaultWorkerFile, PoolBusyError, type ValidationPool } from '../../src/api/validation-pool.js';
import { loadMappingTables } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import { logCapture, NOW } from './helpers.js';

const GATED = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'gated-worker.mjs');
const logs = logCapture();
const validator = createValidator();
const tables = loadMappingTables();

/** A gated pool: every task waits until open(); started() counts tasks that reached a thread. */
function gatedPool(workers: number, queue: number, minBytes: number) {
  const shared = new SharedArrayBuffer(8);
  const state = new Int32Array(shared);
  const pool = createValidationPool({ workers, queue, minBytes, filename: GATED, workerData: { shared } });
  return {
    pool,
    open: () => {
      Atomics.store(state, 0, 1);
      Atomics.notify(state, 0);
    },
    /** Resolves once `n` tasks have started on a thread (Atomics.waitAsync: no polling, no sleep). */
    started: async (n: number) => {
      for (let seen = Atomics.load(state, 1); seen < n; seen = Atomics.load(state, 1)) {
        const w = waitAsync(state, 1, seen);
        if (w.async) await w.value;
      }
    },
  };
}

/** Atomics.waitAsync (Node 20 has it; the configured TypeScript lib does not declare it yet). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const bigPatient = () => ({ resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(4000)}</div>` } });

describe('validation pool', () => {
  let gated: ReturnType<typeof gatedPool>;
  afterEach(async () => {
    gated.open();
    await gated.pool.close();
  });

  it('bounds the queue: workers + queue tasks accepted, the next refused at once; all finish once the gate opens', async () => {
    gated = gatedPool(1, 1, 0);
    const now = NOW;
    const first = gated.pool.validate({ resourceType: 'Patient' }, { now });
    const second = gated.pool.validate({ resourceType: 'Observation' }, { now });
    await gated.started(1);
    expect(gated.pool.pending()).toBe(2);
    await expect(gated.pool.validate({ resourceType: 'Patient' }, { now })).rejects.toBeInstanceOf(PoolBusyError);
    gated.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a[0]?.diagnostics).toBe('validated on a worker: Patient');
    expect(b[0]?.diagnostics).toBe('validated on a worker: Observation');
    expect(gated.pool.pending()).toBe(0);
  });

  it('$validate: a body from minBytes on goes to a worker, a smaller one stays inline; saturated → 503 + Retry-After', async () => {
    gated = gatedPool(1, 0, 2000);
    const app = createApp({ validator, tables, clock: () => NOW, logger: logs.logger, pool: gated.pool });
    const small = await request(app).post('/fhir/$validate').send({ resourceType: 'Patient' }).expect(200);
    expect(JSON.stringify(small.body)).not.toContain('validated on a worker');
    const held = request(app).post('/fhir/$validate').send(bigPatient()).then((r) => r);
    await gated.started(1);
    const busy = await request(app).post('/fhir/$validate').send(bigPatient()).expect(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'fatal', code: 'transient' }] });
    // Small payloads are still answered inline while the worker is busy.
    await request(app).post('/fhir/$validate').send({ resourceType: 'Patient' }).expect(200);
    gated.open();
    const r = await held;
    expect(r.status).toBe(200);
    expect(r.body.issue[0].diagnostics).toBe('validated on a worker: Patient');
  });
});

it('a missing worker entry stops at creation with what to do, not later in a thread', () => {
  expect(() => createValidationPool({ workers: 1, queue: 1, minBytes: 0, filename: '/nonexistent/validation-worker.js' })).toThrow(/npm run build.*VALIDATE_WORKERS=0/);
});

describe('the real worker (compiled by `npm ci` → prepare → build)', () => {
  let pool: ValidationPool;
  afterAll(() => pool.close());

  it('answers what the inline validator answers', async () => {
    pool = createValidationPool({ workers: 1, queue: 4, minBytes: 0, filename: defaultWorkerFile() });
    const resource = { ...bigPatient(), gender: 'lelaki', birthDate: '2090-01-01' };
    const onWorker = await pool.validate(resource, { now: NOW });
    expect(onWorker.length).toBeGreaterThan(0);
    expect(onWorker).toEqual(validator.validate(resource, { now: NOW }));
  });
});
