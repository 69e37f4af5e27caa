// The import use case on a real store, mapper and validator: the same checks as POST /ilp/visits, re-upload
// idempotency, row/column problems with nothing stored from a rejected row, bounded batches, CSV and XLSX, hostile files.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createValidator } from '../../src/validation/index.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { importFile, ImportFileError, summaryLines, type ImportDeps, type ImportOptions, type RowError } from '../../src/app/import.js';
import { loadTemplate } from '../../src/app/import-template.js';
import { csvText, HEADER, ID_KEY, NOW, ORG, row, ROWS, tempDir, writeCsv, writeXlsx } from './helpers.js';

const tables = loadMappingTables();
const validator = createValidator();
const template = loadTemplate('posyandu');

describe('import use case', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = tempDir('ilp-import-');
    store = await openStore({ url: `sqlite:${path.join(dir, 'i.db')}` });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = (): ImportDeps => ({
    store, validator, mapper: (r, now) => mapVisit(r, tables, { now }), now: () => NOW, idKey: ID_KEY,
    organizations: new Set([ORG]), locations: new Map([[ORG, new Set(['POSY-MAWAR-01'])]]),
  });
  const run = async (file: string, opts: Partial<ImportOptions> = {}) => {
    const errors: RowError[] = [];
    const progress: number[] = [];
    const summary = await importFile(file, file.endsWith('.xlsx') ? 'xlsx' : 'csv', deps(), {
      organizationId: ORG, template, locale: 'id', onRowError: (e) => errors.push(e), onProgress: (s) => progress.push(s.read), ...opts,
    });
    return { summary, errors, progress };
  };
  const stored = async () => Object.values((await store.counts(ORG)).byState).reduce((a, b) => a + b, 0);

  it('imports the sample; the same file again is unchanged; one corrected value revises; no duplicates', async () => {
    const file = writeCsv(dir, 'a.csv', ROWS);
    const first = await run(file);
    expect(first.summary).toMatchObject({ read: 3, accepted: 3, created: 3, revised: 0, unchanged: 0, rejected: 0 });
    expect(first.errors).toEqual([]);
    expect(await stored()).toBe(3);
    expect((await run(file)).summary).toMatchObject({ created: 0, revised: 0, unchanged: 3 });
    const corrected = writeCsv(dir, 'b.csv', [row(0, { BB: '9,9' }), ROWS[1]!, ROWS[2]!]);
    expect((await run(corrected)).summary).toMatchObject({ created: 0, revised: 1, unchanged: 2 });
    expect(await stored()).toBe(3);
  });

  it('reports bad rows at row and column in Bahasa Indonesia, stores the good ones only, and counts per kind', async () => {
    const file = writeCsv(dir, 'bad.csv', [ROWS[0]!, row(1, { BB: 'sembilan', 'Tgl Lahir': '2023/03/15' }), row(2, { Posyandu: 'POSY-LAIN' })]);
    const { summary, errors } = await run(file);
    expect(summary).toMatchObject({ read: 3, accepted: 1, created: 1, rejected: 2, errorsByKind: { 'cell.date': 1, 'cell.number': 1, 'row.location': 1 } });
    expect(errors.map((e) => e.message)).toEqual([
      'baris 3, kolom Tgl Lahir: bukan tanggal yang dikenali; tulis dd/mm/yyyy (05/10/2026) atau yyyy-mm-dd',
      'baris 3, kolom BB: bukan angka; tulis misalnya 9,8 atau 9.8 tanpa pemisah ribuan',
      'baris 4, kolom Posyandu: kode posyandu ini tidak terdaftar untuk fasilitas ini (berkas fasilitas)',
    ]);
    expect(await stored()).toBe(1);
    expect(errors.map((e) => e.message).join('\n')).not.toMatch(/3273015503230002|Budi/);
    // The refusal is kept like a push's (issues only).
    const rejections = await store.listRejections({ organizationId: ORG, limit: 10 });
    expect(rejections).toHaveLength(2);
    expect(JSON.stringify(rejections)).not.toMatch(/3273015503230002|3273014101950004|Budi|Bayi/);
    // Each names the visit its row would be (a cell problem too, when the child and date could be read): the corrected
    // file then creates exactly those visits, so the facility finds a rejection and its fix by the same visitId.
    await run(writeCsv(dir, 'fixed.csv', [ROWS[0]!, ROWS[1]!, ROWS[2]!]));
    const visits = new Set((await store.listVisits({ organizationId: ORG, limit: 10 })).map((v) => v.visitId));
    expect(rejections.map((r) => r.visitId)).toEqual([expect.any(String), expect.any(String)]);
    for (const r of rejections) expect(visits.has(r.visitId!)).toBe(true);
  });

  it('a row whose child or visit date cannot be read is kept as a rejection without a visitId', async () => {
    await run(writeCsv(dir, 'noid.csv', [row(1, { 'Tanggal Kunjungan': 'kemarin' })]));
    const [rejection] = await store.listRejections({ organizationId: ORG, limit: 10 });
    expect(rejection).toBeDefined();
    expect(rejection!.visitId).toBeUndefined();
  });

  it('puts a record-check refusal (the contract and mapping rules) at the column it came from', async () => {
    const file = writeCsv(dir, 'range.csv', [row(0, { BB: '0,05' })]);
    const { summary, errors } = await run(file, { locale: 'en' });
    expect(summary.rejected).toBe(1);
    expect(errors[0]).toMatchObject({ row: 2, column: 'BB', kind: 'row.record' });
    expect(errors[0]!.message).toMatch(/^row 2, column BB: refused: /);
    // A column the file lacks is named as the template names it: the one to add.
    const noNakes = writeCsv(dir, 'nakes.csv', [row(0, { 'IHS Nakes': '' })]);
    expect((await run(noNakes)).errors.map((e) => e.column)).toEqual(['NIK Nakes']);
  });

  it('rejects every row of a facility the adapter does not deliver for, storing nothing', async () => {
    const file = writeCsv(dir, 'a.csv', ROWS);
    const { summary, errors } = await run(file, { organizationId: '10000099' });
    expect(summary).toMatchObject({ read: 3, accepted: 0, rejected: 3, errorsByKind: { 'row.organization': 3 } });
    expect(errors[0]!.message).toBe('baris 2: fasilitas ini tidak dikonfigurasi di adapter (berkas fasilitas)');
    expect(Object.values((await store.counts('10000099')).byState).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('refuses the same child on the same date twice in one file, naming the first row', async () => {
    const { summary, errors } = await run(writeCsv(dir, 'dup.csv', [ROWS[0]!, ROWS[1]!, row(0, { BB: '10,0' })]));
    expect(summary).toMatchObject({ created: 2, rejected: 1, errorsByKind: { 'row.duplicate': 1 } });
    expect(errors.map((e) => e.message)).toEqual(['baris 4: kunjungan yang sama dengan baris 2 (anak dan tanggal kunjungan sama): gabungkan menjadi satu baris']);
    const [rejection] = await store.listRejections({ organizationId: ORG, limit: 10 });
    expect((await store.listVisits({ organizationId: ORG, limit: 10 })).map((v) => v.visitId)).toContain(rejection!.visitId);
  });

  it('commits in bounded batches, reporting progress after each', async () => {
    const many = Array.from({ length: 7 }, (_, i) => row(0, { 'Tanggal Kunjungan': `0${i + 1}/10/2026` }));
    const { summary, progress } = await run(writeCsv(dir, 'many.csv', many), { batchSize: 3 });
    expect(summary).toMatchObject({ read: 7, created: 7 });
    expect(progress).toEqual([3, 6, 7]);
    expect(await stored()).toBe(7);
  });

  it('a dry run checks every row and stores nothing', async () => {
    const { summary } = await run(writeCsv(dir, 'a.csv', [...ROWS, row(0, { JK: '?' })]), { dryRun: true });
    expect(summary).toMatchObject({ read: 4, accepted: 3, created: 0, rejected: 1, dryRun: true });
    expect(await stored()).toBe(0);
    expect(summaryLines(summary, 'id')[0]).toBe('Uji coba (tidak ada yang disimpan): 4 baris dibaca; akan diimpor 3; ditolak 1.');
  });

  it('reads a comma-separated CSV with a BOM and quoted decimal commas', async () => {
    const quoted = (r: string[]) => r.map((v) => `"${v}"`);
    const file = path.join(dir, 'comma.csv');
    writeFileSync(file, '\uFEFF' + csvText(ROWS.map(quoted), quoted(HEADER), ','));
    expect((await run(file)).summary).toMatchObject({ read: 3, created: 3, rejected: 0 });
  });

  it('imports an XLSX with date cells, number cells and a formula cell refused at its column', async () => {
    const file = await writeXlsx(dir, 'reg.xlsx', [...ROWS, row(1, { 'Tanggal Kunjungan': '12/10/2026' })], (h, v) => {
      if (h === 'Tgl Lahir' || h === 'Tanggal Kunjungan') { const [d, m, y] = v.split('/'); return new Date(Date.UTC(+y!, +m! - 1, +d!)); }
      if (h === 'BB' || h === 'LK') return Number(v.replace(',', '.'));
      return v;
    });
    const first = await run(file);
    expect(first.summary).toMatchObject({ read: 4, created: 4, rejected: 0 });
    // Same visits from CSV: same visitIds ⇒ unchanged (XLSX and CSV of one register agree).
    expect((await run(writeCsv(dir, 'same.csv', ROWS))).summary).toMatchObject({ unchanged: 3, created: 0 });
    const withFormula = await writeXlsx(dir, 'f.xlsx', [ROWS[0]!], (h, v) => (h === 'BB' ? { formula: 'A1*2', result: 9.8 } : v));
    const f = await run(withFormula);
    expect(f.summary.rejected).toBe(1);
    expect(f.errors[0]!.message).toBe('baris 2, kolom BB: berisi rumus (formula); rumus tidak dihitung saat impor: salin lalu tempel sebagai nilai');
  });

  it('refuses hostile or wrong files clearly, without a crash', async () => {
    const fileError = async (file: string) => {
      try {
        await run(file);
      } catch (e) {
        if (e instanceof ImportFileError) return e.why;
        throw e;
      }
      return 'imported';
    };
    const binary = path.join(dir, 'photo.csv');
    writeFileSync(binary, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]));
    expect(await fileError(binary)).toBe('file.not-csv');
    const notZip = path.join(dir, 'fake.xlsx');
    writeFileSync(notZip, 'NIK;Nama\n1;2\n');
    expect(await fileError(notZip)).toBe('file.not-xlsx');
    const brokenZip = path.join(dir, 'broken.xlsx');
    writeFileSync(brokenZip, Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2000, 0x41)]));
    expect(await fileError(brokenZip)).toBe('file.xlsx-broken');
    const xlsxAsCsv = path.join(dir, 'renamed.csv');
    writeFileSync(xlsxAsCsv, Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(100, 0x41)]));
    expect(await fileError(xlsxAsCsv)).toBe('file.not-csv');
    const wide = path.join(dir, 'wide.csv');
    writeFileSync(wide, Array.from({ length: 300 }, (_, i) => `k${i}`).join(';') + '\n');
    expect(await fileError(wide)).toBe('file.too-many-columns');
    const huge = path.join(dir, 'huge.csv');
    writeFileSync(huge, `${HEADER.join(';')}\n"${'x'.repeat(400_000)}"\n`);
    expect(await fileError(huge)).toBe('file.record-too-large');
    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, '\n;;\n');
    expect(await fileError(empty)).toBe('file.no-header');
    const other = path.join(dir, 'other.csv');
    writeFileSync(other, 'a,b,c\n1,2,3\n');
    expect(await fileError(other)).toBe('file.missing-columns');
    expect(await stored()).toBe(0);
  });
});
