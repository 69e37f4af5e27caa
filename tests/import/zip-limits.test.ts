// The zip-bomb guard of XLSX imports (src/app/zip-limits.ts) on generated archives: a high-ratio entry, too many
// entries, a total over the cap, a central directory that understates what inflates, a local entry it hides, and the
// refusal in Bahasa Indonesia through importFile (the CLI's and the console's path) with nothing stored.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkZipLimits, DEFAULT_ZIP_LIMITS } from '../../src/app/zip-limits.js';
import { fileErrorText, importFile, ImportFileError } from '../../src/app/import.js';
import { loadTemplate } from '../../src/app/import-template.js';
import { createValidator } from '../../src/validation/index.js';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { openStore } from '../../src/store/index.js';
import { ID_KEY, NOW, ORG, ROWS, tempDir, writeXlsx } from './helpers.js';
import { bombData, writeZip } from './zip.js';

const stopOf = async (p: Promise<unknown>): Promise<ImportFileError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ImportFileError) return e;
    throw e;
  }
  throw new Error('no ImportFileError');
};

describe('XLSX zip limits', () => {
  let dir: string;
  beforeEach(() => void (dir = tempDir('ilp-zip-')));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string) => path.join(dir, name);

  it('lets a real XLSX through, and archives with data descriptors', async () => {
    await expect(checkZipLimits(await writeXlsx(dir, 'reg.xlsx', ROWS))).resolves.toBeUndefined();
    const file = writeZip(at('d.xlsx'), [{ name: 'a.xml', data: Buffer.from('<a/>'.repeat(100)), descriptor: true }, { name: 'b.xml', data: Buffer.from('x'), method: 0 }]);
    await expect(checkZipLimits(file)).resolves.toBeUndefined();
  });

  it('refuses an entry with a bomb-like compression ratio', async () => {
    const e = await stopOf(checkZipLimits(writeZip(at('bomb.xlsx'), [{ name: 'xl/worksheets/sheet1.xml', data: bombData() }])));
    expect(e.why).toBe('file.zip-limits');
    expect(e.params).toMatchObject({ '@reason': 'import.zip.ratio', ratio: expect.any(Number), max: 200 });
    expect(fileErrorText('en', e)).toMatch(/\(a likely zip bomb: ratio \d+:1 > 200:1\)/);
  });

  it('refuses too many entries and a total decompressed size over the cap', async () => {
    const many = Array.from({ length: DEFAULT_ZIP_LIMITS.maxEntries + 1 }, (_, i) => ({ name: `f${i}.xml`, data: Buffer.from('<a/>') }));
    const tooMany = await stopOf(checkZipLimits(writeZip(at('many.xlsx'), many)));
    expect(fileErrorText('en', tooMany)).toMatch(/\(a likely zip bomb: 1001 entries > 1000\)/);
    expect(fileErrorText('id', tooMany)).toMatch(/\(kemungkinan bom zip: 1001 entri > 1000\)/);
    // Random bytes do not compress: a low ratio, caught only by the total.
    const big = [{ name: 'a.bin', data: randomBytes(700_000) }, { name: 'b.bin', data: randomBytes(700_000) }];
    const e = await stopOf(checkZipLimits(writeZip(at('big.xlsx'), big), { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 1_000_000 }));
    expect(e).toMatchObject({ kind: 'import-file', why: 'file.zip-limits', params: { '@reason': 'import.zip.total', max: 1_000_000 } });
    expect(fileErrorText('en', e)).toMatch(/\(a likely zip bomb: > 1000000 bytes decompressed\)/);
  });

  it('refuses an entry that inflates beyond the size its headers declare (the ratio looks harmless)', async () => {
    const e = await stopOf(checkZipLimits(writeZip(at('liar.xlsx'), [{ name: 'xl/worksheets/sheet1.xml', data: bombData(), declaredSize: 1_000 }])));
    expect(fileErrorText('en', e)).toMatch(/\(a likely zip bomb: an entry inflates beyond its declared size\)/);
    expect(fileErrorText('id', e)).toMatch(/\(kemungkinan bom zip: sebuah entri mengembang melebihi ukuran yang dinyatakannya\)/);
  });

  it('refuses a local entry the central directory does not list, and a truncated archive', async () => {
    const hidden = writeZip(at('hidden.xlsx'), [{ name: 'a.xml', data: Buffer.from('<a/>') }, { name: 'x.xml', data: bombData(), hidden: true }]);
    expect((await stopOf(checkZipLimits(hidden))).why).toBe('file.xlsx-broken');
    const zip = writeZip(at('ok.xlsx'), [{ name: 'a.xml', data: Buffer.from('<a/>') }]);
    writeFileSync(at('cut.xlsx'), readFileSync(zip).subarray(0, 30));
    expect((await stopOf(checkZipLimits(at('cut.xlsx')))).why).toBe('file.xlsx-broken');
  });

  it('stops an import of a zip bomb with a clear Indonesian error, storing nothing', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    const tables = loadMappingTables();
    try {
      const file = writeZip(at('bomb.xlsx'), [{ name: '[Content_Types].xml', data: Buffer.from('<Types/>') }, { name: 'xl/worksheets/sheet1.xml', data: bombData() }]);
      const e = await stopOf(importFile(file, 'xlsx', {
        store, validator: createValidator(), mapper: (r, now) => mapVisit(r, tables, { now }), now: () => NOW, idKey: ID_KEY,
      }, { organizationId: ORG, template: loadTemplate('posyandu'), locale: 'id' }));
      expect(fileErrorText('id', e)).toMatch(/^berkas XLSX ini mengembang terlalu besar saat dibuka \(kemungkinan bom zip: rasio \d+:1 > 200:1\)/);
      expect((await store.counts(ORG)).byState.queued).toBe(0);
    } finally {
      await store.close();
    }
  });
});
