// Fixtures for the import tests: the shipped sample CSV as header + rows to vary, files written to a temp folder, and an
// XLSX written with exceljs' own writer (no binary fixture committed).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { mappingsDir } from '../../src/util/paths.js';

export const ORG = '10000004'; // the sandbox-simulator sample facility (no FACILITIES_FILE)
export const NOW = new Date('2026-11-20T03:00:00Z');
export const ID_KEY = Buffer.alloc(32, 7);
export const SAMPLE = path.join(mappingsDir, 'imports', 'samples', 'posyandu.csv');

const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n');
export const HEADER = lines[0]!.split(';');
export const ROWS = lines.slice(1).map((l) => l.split(';'));

/** A copy of sample row `i` with some columns (by header) replaced. */
export function row(i: number, changes: Record<string, string> = {}): string[] {
  const r = [...ROWS[i]!];
  for (const [h, v] of Object.entries(changes)) {
    const at = HEADER.indexOf(h);
    if (at < 0) throw new Error(`no column ${h}`);
    r[at] = v;
  }
  return r;
}

export const csvText = (rows: string[][], header = HEADER, sep = ';') => [header, ...rows].map((r) => r.join(sep)).join('\r\n') + '\r\n';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeCsv(dir: string, name: string, rows: string[][], header = HEADER): string {
  const file = path.join(dir, name);
  writeFileSync(file, csvText(rows, header));
  return file;
}

/** An XLSX of header + rows; `cell` may turn a sample value into a typed cell (date, number, formula). */
export async function writeXlsx(dir: string, name: string, rows: string[][], cell: (header: string, value: string) => unknown = (_h, v) => v): Promise<string> {
  const file = path.join(dir, name);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Register');
  ws.addRow(HEADER);
  for (const r of rows) ws.addRow(r.map((v, i) => (v === '' ? null : cell(HEADER[i]!, v))));
  await wb.xlsx.writeFile(file);
  return file;
}
