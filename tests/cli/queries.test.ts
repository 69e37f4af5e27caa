// `ilp-adapter visits list|show|requeue`, `rejections` and `facilities` on the service database (DATABASE_URL), in
// Bahasa Indonesia by default, as table, JSON or CSV.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { openStore } from '../../src/store/index.js';
import type { OperationOutcome } from 'fhir/r4.js';
import { context, NOW } from './helpers.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';

const unused = { validator: () => { throw new Error('not used'); }, mapper: () => { throw new Error('not used'); } } as never;
const ORG = '10000004'; // the sandbox-simulator sample facility (no FACILITIES_FILE)
const T = NOW.getTime();
// As sync stores it: our message kept in an extension (said in the reader's language), the platform's text as it came.
const oo: OperationOutcome = toOperationOutcome([
  messageIssue('error', 'value', 'source.birthdate.after-visit', {}, 'patient.birthDate'),
  { severity: 'error', code: 'value', diagnostics: 'x' },
], undefined, true);
const unitIssue = messageIssue('error', 'code-invalid', 'source.unit.not-accepted', { unit: "'lbs'", code: 'body-weight', allowed: 'kg, g' }, 'measurements[0].unit');

describe('ilp-adapter visits / rejections / facilities', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-queries-'));
    process.env.DATABASE_URL = `sqlite:${path.join(dir, 'q.db')}`;
    process.env.DATA_DIR = dir; // the data key too: nothing lands in the working tree
    delete process.env.FACILITIES_FILE;
    const store = await openStore({ url: process.env.DATABASE_URL, dataDir: dir });
    const rec = (visitId: string) => ({ organizationId: ORG, visitId, setting: 'posyandu', locationCode: 'POSY-01', start: '2026-10-05T08:30:00+07:00', patient: { nik: '3273010508260001', name: 'Muhammad Rafi' } });
    await store.ingest(['2026/10/0001', 'V-2', '=cmd'].map((v) => ({ organizationId: ORG, visitId: v, record: rec(v), contentHash: v })), T - 60_000);
    const [row] = await store.claimDue(ORG, T - 30_000, 1, 60_000);
    await store.markFinal(row!.claim, 'needs-correction', oo, T - 20_000);
    await store.addRejections([{ organizationId: ORG, visitId: 'BAD-1', at: T - 10_000, issues: [{ severity: 'error', code: 'value', expression: ['measurements[0].unit'], diagnostics: unitIssue.diagnostics, message: unitIssue.message! }] }]);
    await store.close();
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...args: string[]) => {
    const ctx = context('', unused);
    const code = await runCli(args, ctx);
    return { code, out: ctx.out.text, err: ctx.err.text };
  };

  it('lists as a table with Indonesian titles and explanations, and in English on --lang en; never a NIK or name', async () => {
    const id = await run('visits', 'list');
    expect(id.code).toBe(0);
    expect(id.out.split('\n')[0]).toMatch(/^Organisasi\s+ID kunjungan\s+Status\s+Percobaan\s+Percobaan berikutnya\s+Diperbarui\s+Penjelasan$/);
    expect(id.out).toMatch(/needs-correction .*SATUSEHAT \(atau validasi kami\) menolak datanya/);
    expect(id.out).toContain('2026/10/0001');
    expect(id.out).not.toMatch(/3273010508260001|Muhammad Rafi/);
    const en = await run('visits', 'list', '--lang', 'en', '--state', 'queued');
    expect(en.out.split('\n')[0]).toMatch(/^Organization\s+Visit id\s+State/);
    expect(en.out).toMatch(/Waiting for the next sync run\./);
    expect(en.out).not.toMatch(/needs-correction/);
  });

  it('pages as JSON with a cursor and exports CSV safe for spreadsheets', async () => {
    const first = await run('visits', 'list', '--format', 'json', '--count', '2');
    const page = JSON.parse(first.out) as { items: { visitId: string }[]; nextCursor: string };
    expect(page.items).toHaveLength(2);
    expect(first.err).toContain(`--cursor ${page.nextCursor}`);
    const rest = JSON.parse((await run('visits', 'list', '--format', 'json', '--cursor', page.nextCursor)).out) as { items: { visitId: string }[] };
    expect([...page.items, ...rest.items].map((v) => v.visitId).sort()).toEqual(['2026/10/0001', '=cmd', 'V-2']);
    const csv = await run('visits', 'list', '--format', 'csv');
    expect(csv.out.split('\r\n')[0]).toBe('organizationId,visitId,revision,state,attempts,nextAttemptAt,updatedAt,setting,locationCode,visitStart,explanation');
    expect(csv.out).toContain(`${ORG},'=cmd,1,`);
  });

  it('shows one visit without its record, and requeues it', async () => {
    const list = JSON.parse((await run('visits', 'list', '--format', 'json', '--state', 'needs-correction')).out) as { items: { visitId: string }[] };
    const visitId = list.items[0]!.visitId;
    const shown = await run('visits', 'show', ORG, visitId, '--format', 'json');
    expect(JSON.parse(shown.out)).toMatchObject({ visitId, state: 'needs-correction', lastError: { resourceType: 'OperationOutcome', issue: [
      { severity: 'error', code: 'value', expression: ['patient.birthDate'], diagnostics: 'patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir' },
      { severity: 'error', code: 'value', diagnostics: 'x' },
    ] } });
    expect(JSON.parse((await run('visits', 'show', ORG, visitId, '--format', 'json', '--lang', 'en')).out).lastError.issue[0].diagnostics).toBe('patient.birthDate is after the visit date');
    expect(shown.out).not.toMatch(/3273010508260001|Muhammad Rafi|"record"/);
    expect((await run('visits', 'show', ORG, visitId)).out).toMatch(/^organizationId: 10000004\nvisitId: /);
    const requeued = await run('visits', 'requeue', ORG, visitId);
    expect(requeued).toMatchObject({ code: 0, out: `Kunjungan ${visitId} diantrekan kembali (sebelumnya needs-correction); akan dikirim pada sinkronisasi berikutnya.\n` });
    const again = await run('visits', 'requeue', ORG, visitId, '--lang', 'en');
    expect(again).toMatchObject({ code: 1, err: 'ilp-adapter visits requeue: Only blocked, needs-correction or dead-letter visits can be requeued (this one is queued).\n' });
    expect((await run('visits', 'show', ORG, 'NOPE')).code).toBe(1);
  });

  it('says every history entry in Bahasa Indonesia by default (older ones too), English with --lang en', async () => {
    const store = await openStore({ url: process.env.DATABASE_URL!, dataDir: dir });
    const older = toOperationOutcome([messageIssue('error', 'not-found', 'sync.practitioner.not-found', {}, 'practitioner.nik')], undefined, true);
    await store.ingest([{ organizationId: ORG, visitId: 'V-H', record: { organizationId: ORG, visitId: 'V-H' }, contentHash: 'h' }], T - 9_000);
    const claim = async (at: number) => (await store.claimDue(ORG, at, 10, 60_000)).find((r) => r.visitId === 'V-H')!.claim;
    await store.markRetry(await claim(T - 8_000), T - 7_000, older, T - 8_000);
    await store.markFinal(await claim(T - 6_000), 'needs-correction', oo, T - 6_000);
    await store.close();
    const errors = async (...lang: string[]) =>
      (JSON.parse((await run('visits', 'show', ORG, 'V-H', '--format', 'json', ...lang)).out).history as Array<{ error?: string }>).flatMap((h) => h.error ?? []);
    expect(await errors()).toEqual([
      'error/not-found: Tidak ada tenaga kesehatan SATUSEHAT (indeks Nakes) yang terdaftar dengan NIK ini; data nakes hanya dapat dibaca: daftarkan nakes di SATUSEHAT atau kirim practitioner.ihsNumber',
      'error/value: patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir; error/value: x',
    ]);
    expect(await errors('--lang', 'en')).toEqual([
      expect.stringMatching(/^error\/not-found: No SATUSEHAT practitioner \(Nakes index\) is registered for this NIK/),
      'error/value: patient.birthDate is after the visit date; error/value: x',
    ]);
  });

  it('lists rejections and facilities', async () => {
    const rej = await run('rejections', '--format', 'csv');
    expect(rej.out).toBe(`organizationId,visitId,at,issues\r\n${ORG},BAD-1,${new Date(T - 10_000).toISOString()},"measurements[0].unit: value: satuan 'lbs' tidak diterima untuk body-weight; gunakan salah satu dari kg, g"\r\n`);
    expect((await run('rejections', '--format', 'csv', '--lang', 'en')).out).toContain("measurements[0].unit: value: unit 'lbs' is not accepted for body-weight; use one of kg, g");
    const fac = await run('facilities', '--format', 'json');
    const [f] = JSON.parse(fac.out).items;
    expect(f).toMatchObject({ organizationId: ORG, configured: true, environment: 'simulator', status: 'active', counts: { queued: 2, 'needs-correction': 1 }, oldestWaitingSince: new Date(T - 60_000).toISOString(), oldestWaitingAgeSeconds: 60 });
    expect(f).toMatchObject({ quotaLastHour: { requests: 0, scope: 'all-instances' }, quotaNote: expect.stringMatching(/setiap instans layanan/) });
    const table = await run('facilities');
    expect(table.out.split('\n')[0]).toMatch(/^Organisasi\s+Status fasilitas\s+Antre/);
    expect((await run('facilities', '--organization', '99999999')).code).toBe(1);
  });

  it.each([
    [['visits', 'list', '--state', 'lost'], /Parameter salah: state: setiap nilai harus salah satu dari queued, sending/],
    [['visits', 'list', '--count', '0'], /_count: harus bilangan bulat dari 1 sampai 500/],
    [['visits', 'list', '--cursor', 'abc'], /cursor: bukan cursor daftar ini/],
    [['visits', 'list', '--from', 'kemarin'], /from: harus berupa tanggal/],
    [['visits', 'list', '--format', 'xml'], /--format harus table, json atau csv/],
    [['visits', 'list', '--lang', 'fr'], /--lang harus id atau en/],
    [['visits', 'show', ORG, 'V-2', '--format', 'csv'], /--format harus table, json atau csv/],
    [['rejections', '--since', 'x', '--lang', 'en'], /Bad parameter: since: must be a date/],
  ])('%j → exit 2 with the reason', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('exit 2 when the database URL is not one the service supports', async () => {
    process.env.DATABASE_URL = 'mysql://ilp:s3cret@db.example/ilp';
    const r = await run('visits', 'list');
    expect(r.code).toBe(2);
    // The configuration problem in the same language as its frame (Bahasa Indonesia by default).
    expect(r.err).toMatch(/Tidak dapat membuka basis data layanan: Konfigurasi tidak valid:.*DATABASE_URL: gunakan sqlite:<berkas>/s);
    expect(r.err).not.toMatch(/s3cret/);
  });

  it('exit 2 when the PostgreSQL server cannot be reached, without echoing the URL', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    process.env.DATABASE_URL = 'postgres://ilp:s3cret@127.0.0.1:1/ilp';
    const r = await run('visits', 'list');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Tidak dapat membuka basis data layanan/);
    expect(r.err).not.toMatch(/s3cret/);
  });
});
