// The console's spreadsheet upload over HTTP: a multipart POST into a background import job (the same importFile as the
// CLI), the job page with progress and then the summary and row errors, re-upload unchanged / corrected value revised,
// the size cap (413, nothing stored, no file left), CSRF, the facility scope of jobs, dry run, a zip bomb, bad forms,
// and a connection dropped mid-file.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { A, B, csrfOf, KEY, NOW, uploadHarness, type ConsoleHarness } from './harness.js';
import { jobPage } from '../../src/console/upload-pages.js';
import type { ImportJob } from '../../src/app/import-jobs.js';
import { csvText, row, ROWS, SAMPLE, tempDir } from '../import/helpers.js';
import { bombData, zipBytes } from '../import/zip.js';
import { serve } from '../browser/browser.js';
import { eventually } from '../helpers/eventually.js';

type Agent = Awaited<ReturnType<ConsoleHarness['signIn']>>;

describe('console upload', () => {
  let spoolRoot: string;
  let h: ConsoleHarness;
  beforeEach(() => {
    spoolRoot = tempDir('ilp-console-spool-');
    h = uploadHarness(spoolRoot);
  });
  afterEach(() => {
    h.console.imports!.spool.dispose();
    rmSync(spoolRoot, { recursive: true, force: true });
  });

  const jobs = () => h.console.imports!.jobs;
  const spooled = () => readdirSync(spoolRoot).flatMap((d) => readdirSync(path.join(spoolRoot, d)));
  const stored = async (org = A): Promise<number> => Object.values((await h.store.counts(org)).byState).reduce((a, b) => a + b, 0);
  const csrf = async (agent: Agent) => csrfOf((await agent.get('/console/upload').expect(200)).text);

  /** Posts the form as the page does (fields first, then the file); resolves with the response. */
  const upload = async (agent: Agent, file: Buffer, name: string, fields: Record<string, string> = {}, token?: string) => {
    let req = agent.post('/console/upload').field('_csrf', token ?? (await csrf(agent)));
    for (const [k, v] of Object.entries({ template: 'posyandu', ...fields })) req = req.field(k, v);
    return req.attach('file', file, name);
  };
  /** Uploads, follows to the job page once the job has settled (waiting on the job, not on time). */
  const uploaded = async (agent: Agent, file: Buffer, name = 'register.csv', fields: Record<string, string> = {}) => {
    const res = await upload(agent, file, name, fields);
    expect(res.status).toBe(303);
    const location = res.headers.location as string;
    expect(location).toMatch(/^\/console\/imports\/[A-Za-z0-9_-]{22}$/);
    await jobs().settled(location.split('/').pop()!);
    return { location, page: (await agent.get(location).expect(200)).text };
  };
  const sample = readFileSync(SAMPLE);

  it('imports the sample register for the facility, shows the summary; the same file again is unchanged, a corrected value revises', async () => {
    const a = await h.signIn(A);
    const form = (await a.get('/console/upload').expect(200)).text;
    expect(form).toContain('enctype="multipart/form-data"');
    expect(form).toContain(`Kunjungan dicatat untuk fasilitas ${A}.`);
    expect(form).not.toContain('name="organizationId"'); // a facility key uploads for itself only
    expect(form.indexOf('name="_csrf"')).toBeLessThan(form.indexOf('name="file"'));

    const first = await uploaded(a, sample);
    expect(first.page).toContain('Selesai: 3 baris dibaca; diimpor 3 (baru 3, direvisi 0, tidak berubah 0); ditolak 0.');
    expect(first.page).toContain('<progress id="progress" value="1" max="1"');
    expect(first.page).not.toContain('http-equiv="refresh"'); // finished: no more refreshing
    expect((await h.store.counts(A)).byState.queued).toBe(3);
    expect(spooled()).toEqual([]); // the upload is deleted after its import

    expect((await uploaded(a, sample)).page).toContain('(baru 0, direvisi 0, tidak berubah 3)');
    const corrected = Buffer.from(csvText([ROWS[0]!, row(1, { BB: '12,4' }), ROWS[2]!]));
    expect((await uploaded(a, corrected)).page).toContain('(baru 0, direvisi 1, tidak berubah 2)');
    expect(await stored()).toBe(3);
  });

  it('lists row errors in Bahasa Indonesia, stores nothing from the rejected row, and links to the rejections', async () => {
    const a = await h.signIn(A);
    const { page } = await uploaded(a, Buffer.from(csvText([ROWS[0]!, row(1, { BB: 'dua belas' }), ROWS[2]!])));
    expect(page).toContain('<li data-row="3">baris 3, kolom BB: bukan angka; tulis misalnya 9,8 atau 9.8 tanpa pemisah ribuan</li>');
    expect(page).toContain('Selesai: 3 baris dibaca; diimpor 2 (baru 2, direvisi 0, tidak berubah 0); ditolak 1.');
    expect(page).toContain('<span data-count="stored">2 disimpan</span>');
    expect(page).toContain('href="/console/rejections"');
    expect(await stored()).toBe(2);
    expect((await a.get('/console/rejections').expect(200)).text).toContain('baris 3, kolom BB');
  });

  it('shows a running job with its counts, an indeterminate progress bar and a self-refresh (no script)', () => {
    const job: ImportJob = {
      id: 'job-1', organizationId: A, template: 'posyandu', dryRun: false, locale: 'id', state: 'running', startedAt: NOW.getTime(), moreErrors: 0,
      errors: [{ row: 14, column: 'BB', kind: 'cell.number', message: 'baris 14, kolom BB: bukan angka; tulis misalnya 9,8 atau 9.8 tanpa pemisah ribuan' }],
      progress: { read: 500, accepted: 499, created: 499, revised: 0, unchanged: 0, rejected: 1, errorsByKind: {}, notImportedColumns: [], unknownColumns: [], dryRun: false },
    };
    const page = jobPage({ locale: 'id', path: '/console/imports/job-1', principal: { role: 'facility', organizationId: A }, csrf: 'x', refreshSeconds: 2 }, job);
    expect(page).toContain('<meta http-equiv="refresh" content="2">');
    expect(page).toContain('<progress id="progress" aria-label="Kemajuan impor"></progress>');
    expect(page).toContain('500 baris dibaca</span> · <span data-count="stored">499 disimpan</span> · <span data-count="rejected">1 ditolak');
    expect(page).toContain('baris 14, kolom BB: bukan angka');
    expect(page).toContain('Halaman ini diperbarui sendiri setiap 2 detik.');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('id="summary"');
  });

  it('shows the job of an instance that died as interrupted once its lease ends, with what to do (id, en)', async () => {
    // Another instance reserved the job in the shared store, then stopped renewing it (killed mid-import).
    await h.store.reserveImportJob({ id: 'job-of-a-dead-instance', organizationId: A, template: 'posyandu', dryRun: false, locale: 'id' }, 'instance-gone', 2, 60_000, NOW.getTime());
    const a = await h.signIn(A);
    expect((await a.get('/console/imports/job-of-a-dead-instance').expect(200)).text).toContain('id="running"');
    h.setNow(NOW.getTime() + 60_000);
    const page = (await a.get('/console/imports/job-of-a-dead-instance').expect(200)).text;
    expect(page).toContain('Impor terputus: instans layanan yang menjalankannya berhenti (dimatikan atau mogok) sebelum selesai');
    expect(page).not.toContain('http-equiv="refresh"');
    await a.get('/console/lang/en');
    expect((await a.get('/console/imports/job-of-a-dead-instance').expect(200)).text).toContain('Import interrupted: the service instance running it stopped');
    await a.get('/console/lang/id');
    // Its facility may upload again at once.
    expect((await uploaded(a, sample)).page).toContain('Selesai: 3 baris dibaca');
    const b = await h.signIn(B);
    await b.get('/console/imports/job-of-a-dead-instance').expect(404);
  });

  it('refuses a file over the size cap while it streams (413), storing nothing and leaving no file', async () => {
    h = uploadHarness(spoolRoot, { maxUploadBytes: 2_000 });
    const a = await h.signIn(A);
    const big = Buffer.from(csvText(Array.from({ length: 40 }, (_, i) => row(0, { 'Tanggal Kunjungan': `${String(1 + (i % 28)).padStart(2, '0')}/10/2026` }))));
    expect(big.length).toBeGreaterThan(2_000);
    const res = await upload(a, big, 'register.csv');
    expect(res.status).toBe(413);
    expect(res.text).toContain('Berkas terlalu besar (paling besar 2 KB): tidak ada yang disimpan.');
    expect(await stored()).toBe(0);
    expect(spooled()).toEqual([]);
    expect(jobs().size).toBe(0);
    // Under the cap the same console takes a file.
    expect((await uploaded(a, Buffer.from(csvText([ROWS[0]!])))).page).toContain('diimpor 1');
  });

  it('refuses an upload without the session CSRF token (403), or with the file before the token', async () => {
    const a = await h.signIn(A);
    expect((await upload(a, sample, 'register.csv', {}, 'not-the-token')).status).toBe(403);
    const fileFirst = await a.post('/console/upload').attach('file', sample, 'register.csv').field('_csrf', await csrf(a));
    expect(fileFirst.status).toBe(403);
    expect(fileFirst.text).toContain('Formulir ini kedaluwarsa atau bukan dari konsol ini.');
    expect(await stored()).toBe(0);
    expect(spooled()).toEqual([]);
    expect((await h.agent().post('/console/upload').attach('file', sample, 'register.csv')).status).toBe(401);
  });

  it("keeps jobs to their facility: B cannot open A's job, A cannot upload for B; the admin chooses the facility", async () => {
    const a = await h.signIn(A);
    const { location } = await uploaded(a, sample);
    const b = await h.signIn(B);
    const other = await b.get(location).expect(404);
    expect(other.text).not.toContain(A);
    expect(other.text).not.toContain('Selesai');

    const forB = await upload(a, sample, 'register.csv', { organizationId: B });
    expect(forB.status).toBe(403);
    expect(await stored(B)).toBe(0);

    const admin = await h.signIn('admin');
    expect((await admin.get(location).expect(200)).text).toContain('Selesai: 3 baris dibaca');
    const form = (await admin.get('/console/upload').expect(200)).text;
    expect(form).toContain(`<option value="${B}">Puskesmas ${B} · ${B}</option>`);
    expect((await upload(admin, sample, 'register.csv', { organizationId: 'nope' })).status).toBe(400);
    // B has no POSY-MAWAR-01: every row is refused at its Posyandu column, for B and not for A.
    const asAdmin = await uploaded(admin, sample, 'register.csv', { organizationId: B });
    expect(asAdmin.page).toContain('baris 2, kolom Posyandu: kode posyandu ini tidak terdaftar untuk fasilitas ini (berkas fasilitas)');
    expect(asAdmin.page).toContain(`href="/console/rejections?organization=${B}"`);
    expect(await stored(B)).toBe(0);
  });

  it('a dry run checks every row and stores nothing', async () => {
    const a = await h.signIn(A);
    const { page } = await uploaded(a, sample, 'register.csv', { dryRun: '1' });
    expect(page).toContain('Uji coba (tidak ada yang disimpan): 3 baris dibaca; akan diimpor 3; ditolak 0.');
    expect(page).toContain('3 akan disimpan');
    expect(await stored()).toBe(0);
  });

  it('ends a zip bomb upload in a failed job with the Indonesian reason, nothing stored, no file left', async () => {
    const a = await h.signIn(A);
    const bomb = zipBytes([{ name: '[Content_Types].xml', data: Buffer.from('<Types/>') }, { name: 'xl/worksheets/sheet1.xml', data: bombData() }]);
    const { page } = await uploaded(a, bomb, 'register.xlsx');
    expect(page).toMatch(/Berkas tidak dapat digunakan: berkas XLSX ini mengembang terlalu besar saat dibuka \(kemungkinan bom zip: rasio \d+:1 &gt; 200:1\)/);
    expect(await stored()).toBe(0);
    expect(spooled()).toEqual([]);
  });

  it('refuses a form without a file, with a file of another type, or with unexpected fields', async () => {
    const a = await h.signIn(A);
    const token = await csrf(a);
    expect((await a.post('/console/upload').field('_csrf', token).field('template', 'posyandu')).status).toBe(400);
    expect((await upload(a, sample, 'register.pdf')).status).toBe(415);
    expect((await a.post('/console/upload').field('_csrf', token).attach('file', Buffer.alloc(0), { filename: '' })).status).toBe(400);
    expect((await upload(a, sample, 'register.csv', { extra: 'x' })).status).toBe(400);
    expect((await upload(a, sample, 'register.csv', { template: '../secret' })).status).toBe(400);
    expect((await a.post('/console/upload').type('form').send({ _csrf: token })).status).toBe(400);
    expect(await stored()).toBe(0);
    expect(spooled()).toEqual([]);
    expect(jobs().size).toBe(0);
  });

  it('forgets an upload whose connection drops mid-file: no job, no file left', async () => {
    const login = await request(h.app).post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const token = csrfOf((await request(h.app).get('/console/upload').set('Cookie', cookie).expect(200)).text);
    const server = await serve(h.app);
    try {
      const boundary = 'XBOUNDARYX';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="register.csv"\r\nContent-Type: text/csv\r\n\r\n`;
      // A raw socket, not http.request: its destroy() closes the TCP connection at once, whatever agent or interceptor the
      // http module carries in this worker (under load, a client cut off through http.request was once not seen to go).
      const { hostname, port } = new URL(server.url);
      const req = net.connect(Number(port), hostname);
      req.on('error', () => {});
      req.write(`POST /console/upload HTTP/1.1\r\nHost: ${hostname}:${port}\r\nCookie: ${cookie}\r\nOrigin: ${server.url}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 1000000\r\n\r\n` + head + sample.toString('utf8'));
      await eventually(() => jobs().size === 1 && spooled().length === 1, 'the upload is being spooled', 60_000);
      req.destroy();
      // The reservation is given back only after the half-written file is removed.
      await eventually(() => jobs().size === 0, 'the server to give up the upload', 60_000);
      expect(spooled()).toEqual([]);
      expect(h.logs()).toContain('console upload refused');
      expect(await stored()).toBe(0);
    } finally {
      await server.close();
    }
  });
});
