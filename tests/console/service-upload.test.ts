// The upload as the service wires it (sandbox-simulator mode, the demo facility key): the console's import reaches the
// service's store with its facilities file and identity key, and CONSOLE_UPLOAD_MAX_MB caps the file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, DEMO_FACILITY_KEY, type RunningService } from '../../src/service.js';
import { logCapture } from '../api/helpers.js';
import { SAMPLE } from '../import/helpers.js';
import { eventually } from '../helpers/eventually.js';

describe('console upload in the service', () => {
  let svc: RunningService;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'console-upload-svc-'));
    svc = await startService({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false', VALIDATE_WORKERS: '0', CONSOLE_UPLOAD_MAX_MB: '1' }, { logger: logCapture().logger });
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (): Promise<{ cookie: string; csrf: string }> => {
    const login = await fetch(`${svc.url}/console/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `apiKey=${DEMO_FACILITY_KEY}`,
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${svc.url}/console/upload`, { headers: { cookie } })).text();
    return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1]! };
  };
  const post = (s: { cookie: string; csrf: string }, file: Blob) => {
    const form = new FormData();
    form.append('_csrf', s.csrf);
    form.append('template', 'posyandu');
    form.append('file', file, 'register.csv');
    return fetch(`${svc.url}/console/upload`, { method: 'POST', redirect: 'manual', headers: { cookie: s.cookie }, body: form });
  };

  it('imports the sample register into the service store for the demo facility', async () => {
    const s = await signIn();
    const res = await post(s, new Blob([readFileSync(SAMPLE)]));
    expect(res.status).toBe(303);
    const job = `${svc.url}${res.headers.get('location')}`;
    let page = '';
    await eventually(async () => (page = await (await fetch(job, { headers: { cookie: s.cookie } })).text()).includes('id="summary"'), 'the job to finish');
    expect(page).toContain('Selesai: 3 baris dibaca; diimpor 3 (baru 3, direvisi 0, tidak berubah 0); ditolak 0.');
    expect((await svc.store.counts('10000004')).byState.queued).toBe(3);
  });

  it('refuses a file over CONSOLE_UPLOAD_MAX_MB with 413', async () => {
    const s = await signIn();
    const res = await post(s, new Blob([Buffer.alloc(1024 * 1024 + 1, 0x41)]));
    expect(res.status).toBe(413);
    expect(await res.text()).toContain('Berkas terlalu besar (paling besar 1 MB)');
  });
});
