// Streaming spreadsheet readers: CSV (csv-parse) and XLSX (exceljs' streaming WorkbookReader), one row at a time with
// its row number as the operator sees it in the spreadsheet. Formulas are never evaluated; a file that is not a
// spreadsheet ends in an ImportFileError, never a crash.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import { FORMULA, type Cell } from './import-cells.js';
import { ImportFileError } from './import-errors.js';
import { checkZipLimits } from './zip-limits.js';

export interface SheetRow {
  /** 1-based row number in the sheet (the header is usually row 1). */
  row: number;
  cells: Cell[];
}

export { ImportFileError } from './import-errors.js';

/** A CSV record longer than this is refused (bounded memory on a file with no line breaks). */
export const MAX_RECORD_BYTES = 256 * 1024;

export type SheetFormat = 'csv' | 'xlsx';

export function formatOf(file: string): SheetFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  return ext === '.csv' || ext === '.txt' ? 'csv' : ext === '.xlsx' ? 'xlsx' : undefined;
}

/** The first bytes: a ZIP (XLSX), a NUL byte (binary) and the CSV separator Excel used (`;` in Indonesian settings). */
async function sniff(file: string): Promise<{ zip: boolean; binary: boolean; delimiter: string }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const firstLine = head.toString('utf8').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
    const count = (ch: string) => firstLine.split(ch).length - 1;
    const delimiter = [';', '\t', ','].reduce((best, ch) => (count(ch) > count(best) ? ch : best), ',');
    return { zip: head[0] === 0x50 && head[1] === 0x4b, binary: head.includes(0), delimiter };
  } finally {
    await fh.close();
  }
}

async function* csvRows(file: string): AsyncGenerator<SheetRow> {
  const s = await sniff(file);
  if (s.zip || s.binary) throw new ImportFileError('file.not-csv');
  const parser = createReadStream(file).pipe(parse({
    bom: true, delimiter: s.delimiter, relax_column_count: true, relax_quotes: true, max_record_size: MAX_RECORD_BYTES, info: true,
  }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { row: info.lines, cells: record };
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    const code = (err as { code?: string }).code ?? '';
    throw new ImportFileError(code === 'CSV_MAX_RECORD_SIZE' ? 'file.record-too-large' : 'file.csv-broken', { reason: code || 'parse error' });
  }
}

/** exceljs cell value → Cell: formulas and error values are flagged, rich text and hyperlinks become their text. */
function xlsxCell(v: unknown): Cell {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  const o = v as Record<string, unknown>;
  if ('formula' in o || 'sharedFormula' in o || 'error' in o) return FORMULA;
  if (Array.isArray(o.richText)) return (o.richText as Array<{ text?: unknown }>).map((r) => String(r.text ?? '')).join('');
  if (typeof o.text === 'string') return o.text;
  return FORMULA;
}

async function* xlsxRows(file: string): AsyncGenerator<SheetRow> {
  const s = await sniff(file);
  if (!s.zip) throw new ImportFileError('file.not-xlsx');
  // Before exceljs inflates anything: a zip bomb is refused here, not met while streaming.
  await checkZipLimits(file);
  // Loaded on first use: exceljs is about a fifth of the service's start-up, and most instances never read a spreadsheet.
  const { default: ExcelJS } = await import('exceljs');
  // Styles are kept so date cells arrive as dates; shared strings are kept (the sheet needs them), nothing else.
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const values = row.values as unknown[];
        const cells: Cell[] = [];
        for (let i = 1; i < values.length; i++) cells.push(xlsxCell(values[i]));
        yield { row: row.number, cells };
      }
      return; // the first sheet only
    }
  } catch (err) {
    if (err instanceof ImportFileError) throw err;
    // The reader's message is not shown: it may quote the file's content.
    throw new ImportFileError('file.xlsx-broken');
  }
}

/** The rows of a CSV or XLSX file, streamed. */
export function sheetRows(file: string, format: SheetFormat): AsyncGenerator<SheetRow> {
  return format === 'csv' ? csvRows(file) : xlsxRows(file);
}
