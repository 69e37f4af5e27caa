// The whole service in sandbox-simulator mode: the validation pool starts and stops with it, large $validate bodies are
// answered by a worker exactly as inline, and the open-endpoint settings come from the environment (one ConfigError).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, startService } from '../../src/service.js';
import { PoolBusyError } from '../../src/api/validation-pool.js';
import { createValidator } from '../../src/validation/index.js';

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() });
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PORT: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'svc-limits-')), SYNC_ENABLED: 'false', ...extra,
});

it('every bad limit setting is reported in the one ConfigError', async () => {
  const err = await startService(env({ OPEN_RATE_PER_MINUTE: '0', OPEN_CONCURRENCY: 'many', VALIDATE_WORKERS: '99', VALIDATE_QUEUE: '-1' }), { logDestination: quiet() }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['OPEN_RATE_PER_MINUTE', 'OPEN_CONCURRENCY', 'VALIDATE_WORKERS', 'VALIDATE_QUEUE']);
});

it('a large $validate body is answered by the worker pool like inline; the pool closes with the service', async () => {
  const svc = await startService(env({ VALIDATE_WORKER_MIN_BYTES: '1024', OPEN_CONCURRENCY: '1' }), { logDestination: quiet() });
  try {
    const resource = { resourceType: 'Patient', gender: 'lelaki', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(3000)}</div>` } };
    const r = await fetch(`${svc.url}/fhir/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { issue: unknown[] };
    expect(svc.validationPool?.completed()).toBe(1);
    const inline = await fetch(`${svc.url}/fhir/$validate`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...resource, text: undefined }) });
    expect(inline.status).toBe(200);
    expect(svc.validationPool?.completed()).toBe(1); // small: inline
    // Same issues as the validator in this process (the text does not change them).
    const expected = createValidator().validate(resource, { now: new Date() });
    expect(body.issue.length).toBe(expected.length);
    expect(body.issue.length).toBeGreaterThan(0);
  } finally {
    await svc.close();
  }
  await expect(svc.validationPool!.validate({ resourceType: 'Patient' }, { now: new Date() })).rejects.toBeInstanceOf(PoolBusyError);
});
