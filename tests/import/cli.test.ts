// `ilp-adapter import` end to end on a temp DATA_DIR: exit codes 0 / 1 / 2, the summary, problems on stdout, --dry-run,
// --lang en, and the sample command of the README.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { createValidator } from '../../src/validation/index.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { openStore } from '../../src/store/index.js';
import { context } from '../cli/helpers.js';
import { ORG, row, ROWS, SAMPLE, tempDir, writeCsv } from './helpers.js';
import { bombData, writeZip } from './zip.js';

const tables = loadMappingTables();
const deps = { validator: createValidator(), mapper: (r: Record<string, unknown>, now: Date) => mapVisit(r, tables, { now }) };

describe('ilp-adapter import', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = tempDir('ilp-import-cli-');
    delete process.env.DATABASE_URL;
    delete process.env.FACILITIES_FILE;
    delete process.env.ILP_HMAC_KEY;
    process.env.DATA_DIR = dir;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...args: string[]) => {
    const ctx = context('', deps);
    const code = await runCli(['import', ...args], ctx);
    return { code, out: ctx.out.text, err: ctx.err.text };
  };
  const stored = async () => {
    const store = await openStore({ dataDir: dir });
    try {
      return (await store.counts(ORG)).byState.queued;
    } finally {
      await store.close();
    }
  };

  it('imports the shipped sample (exit 0), then finds it unchanged on a second run', async () => {
    const first = await run(SAMPLE, '--org', ORG, '--template', 'posyandu');
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toBe('Selesai: 3 baris dibaca; diimpor 3 (baru 3, direvisi 0, tidak berubah 0); ditolak 0.\nKolom yang dikenali tetapi tidak diimpor: Vitamin A\n');
    expect(await stored()).toBe(3);
    const again = await run(SAMPLE, '--org', ORG, '--lang', 'en');
    expect(again.code).toBe(0);
    expect(again.out).toContain('Done: 3 rows read; imported 3 (created 0, revised 0, unchanged 3); rejected 0.');
  });

  it('exits 1 when some rows are rejected, printing each problem and the counts per kind', async () => {
    const file = writeCsv(dir, 'reg.csv', [ROWS[0]!, row(1, { JK: 'W' })]);
    const r = await run(file, '--org', ORG);
    expect(r.code).toBe(1);
    expect(r.out.split('\n').slice(0, 3)).toEqual([
      'baris 3, kolom JK: nilai tidak dikenali; yang diterima: L, Laki-laki, Laki laki, P, Perempuan',
      'Selesai: 2 baris dibaca; diimpor 1 (baru 1, direvisi 0, tidak berubah 0); ditolak 1.',
      '  nilai tidak dikenali: 1',
    ]);
    expect(await stored()).toBe(1);
  });

  it('says a record-check refusal in Bahasa Indonesia by default, in English with ILP_LANG=en', async () => {
    const file = writeCsv(dir, 'range.csv', [row(0, { BB: '0,05' })]);
    const id = await run(file, '--org', ORG, '--dry-run');
    expect(id.code).toBe(1);
    expect(id.out).toMatch(/^baris 2, kolom BB: data ditolak: measurements\[0\]\.value 0\.05 kg di luar rentang yang masuk akal untuk body-weight/);
    process.env.ILP_LANG = 'en';
    const en = await run(file, '--org', ORG, '--dry-run');
    expect(en.out).toMatch(/^row 2, column BB: refused: measurements\[0\]\.value 0\.05 kg is outside the plausible range for body-weight/);
  });

  it('shows a progress line on stderr when it is a terminal, none otherwise', async () => {
    const many = Array.from({ length: 5 }, (_, i) => row(0, { 'Tanggal Kunjungan': `0${i + 1}/10/2026` }));
    const file = writeCsv(dir, 'many.csv', many);
    const ctx = context('', deps);
    (ctx.err as unknown as { isTTY: boolean }).isTTY = true;
    expect(await runCli(['import', file, '--org', ORG, '--batch-size', '2'], ctx)).toBe(0);
    expect(ctx.err.text).toBe('\r2 baris dibaca, 2 diterima, 0 ditolak\r4 baris dibaca, 4 diterima, 0 ditolak\r5 baris dibaca, 5 diterima, 0 ditolak\n');
    expect((await run(file, '--org', ORG)).err).toBe('');
  });

  it('--dry-run stores nothing', async () => {
    const r = await run(SAMPLE, '--org', ORG, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Uji coba \(tidak ada yang disimpan\): 3 baris dibaca; akan diimpor 3; ditolak 0\./);
    expect(await stored()).toBe(0);
  });

  it('exits 2 on an unusable file, an unknown facility, template, extension or language', async () => {
    const pdf = path.join(dir, 'laporan.csv');
    writeFileSync(pdf, Buffer.from('%PDF-1.7\n\u0000\u0001binary'));
    const cases: Array<[string[], RegExp]> = [
      [[pdf, '--org', ORG], /berkas ini bukan CSV/],
      [[SAMPLE, '--org', '99999999'], /fasilitas 99999999 tidak dikonfigurasi/],
      [[SAMPLE, '--org', ORG, '--template', 'tidak-ada'], /templat tidak dikenal: tidak-ada/],
      [[path.join(dir, 'reg.ods'), '--org', ORG], /gunakan .csv atau .xlsx/],
      [[path.join(dir, 'missing.csv'), '--org', ORG], /berkas tidak dapat dibuka \(ENOENT\)/],
      [[SAMPLE, '--org', ORG, '--lang', 'fr'], /--lang harus id atau en/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
    }
    expect(await stored()).toBe(0);
  });

  it('exits 2 on a zip bomb, in Bahasa Indonesia, storing nothing', async () => {
    const bomb = writeZip(path.join(dir, 'bomb.xlsx'), [{ name: 'xl/worksheets/sheet1.xml', data: bombData() }]);
    const r = await run(bomb, '--org', ORG);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ilp-adapter import: berkas XLSX ini mengembang terlalu besar saat dibuka \(kemungkinan bom zip: rasio \d+:1 > 200:1\)/);
    expect(await stored()).toBe(0);
  });
});
