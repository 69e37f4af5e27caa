// Import benchmark (not a test): a generated 50,000-row Posyandu register imported through `importFile` (the same
// checks as POST /ilp/visits, a real SQLite store, batches of 500), rows/s and memory. Run after `npm run build`:
// `node dist/bench/import.js [--rows 50000] [--format csv|xlsx|both]`. Synthetic values only.
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { createMappingKit } from '../src/compose.js';
import { openStore, plainRecordCodec } from '../src/store/index.js';
import { importFile, type ImportSummary } from '../src/app/import.js';
import { importsDir, loadTemplate } from '../src/app/import-template.js';
import type { SheetFormat } from '../src/app/import-readers.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const ROWS = Number(arg('rows', '50000'));
const FORMATS: SheetFormat[] = arg('format', 'both') === 'both' ? ['csv', 'xlsx'] : [arg('format', 'csv') as SheetFormat];
const ORG = '10000004';
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const sample = readFileSync(path.join(importsDir, 'samples', 'posyandu.csv'), 'utf8').trim().split('\n').map((l) => l.split(';'));
const header = sample[0]!;
const col = (h: string) => header.indexOf(h);

/** Row n: 10,000 children × visit dates, so every row is its own visit. */
function rowOf(n: number): string[] {
  const r = [...sample[1]!];
  r[col('NIK')] = `327301671224${String((n % 9999) + 1).padStart(4, '0')}`;
  r[col('Tanggal Kunjungan')] = `${String(1 + Math.floor(n / 9999)).padStart(2, '0')}/10/2026`;
  r[col('BB')] = `${9 + (n % 20) / 10}`.replace('.', ',');
  return r;
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((ok) => out.once('drain', ok)));
  await write(`${header.join(';')}\n`);
  for (let n = 0; n < ROWS; n++) await write(`${rowOf(n).join(';')}\n`);
  await new Promise<void>((ok) => out.end(ok));
}

async function writeXlsx(file: string): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
  const ws = wb.addWorksheet('Register');
  ws.addRow(header).commit();
  for (let n = 0; n < ROWS; n++) ws.addRow(rowOf(n)).commit();
  await wb.commit();
}

async function bench(format: SheetFormat, dir: string): Promise<void> {
  const file = path.join(dir, `register.${format}`);
  await (format === 'csv' ? writeCsv(file) : writeXlsx(file));
  const store = await openStore({ url: `sqlite:${path.join(dir, `bench-${format}.db`)}`, codec: plainRecordCodec });
  const { validator, mapper, weighingOf } = createMappingKit();
  const key = Buffer.alloc(32, 1);
  const rss: Array<[number, number]> = [];
  let peak = 0;
  const t0 = performance.now();
  const summary: ImportSummary = await importFile(file, format, {
    store, validator, mapper, now: () => new Date('2026-11-20T03:00:00Z'), idKey: key,
    organizations: new Set([ORG]), locations: new Map([[ORG, new Set(['POSY-MAWAR-01'])]]),
    weighingOf: weighingOf(key),
  }, {
    organizationId: ORG, template: loadTemplate('posyandu'), locale: 'id',
    onProgress: (s) => {
      const now = process.memoryUsage().rss;
      peak = Math.max(peak, now);
      if (s.read % 10_000 === 0) rss.push([s.read, now]);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  console.log(`${format.toUpperCase()} ${ROWS} rows (${mb(statSync(file).size)} file): ${seconds.toFixed(1)} s, ${Math.round(summary.read / seconds)} rows/s; ` +
    `created ${summary.created}, rejected ${summary.rejected}; RSS peak ${mb(peak)} (sampled per batch); RSS at ${rss.map(([n, b]) => `${n / 1000}k ${mb(b)}`).join(', ')}`);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-bench-import-'));
try {
  console.log(`node ${process.version}, ${os.cpus().length} cores; one process, validator in-process, batches of 500`);
  for (const f of FORMATS) await bench(f, dir);
  console.log(`process max RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
