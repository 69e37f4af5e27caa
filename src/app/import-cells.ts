// Reading one spreadsheet cell as the template column's type says: dates (dd/mm/yyyy, yyyy-mm-dd, Excel dates), times,
// numbers with a decimal comma, NIKs, value maps, vaccine lists. Pure; a bad cell is a problem kind, never an exception.
import type { TemplateColumn } from './import-template.js';

/** A cell as a reader hands it over: formulas are never evaluated, only flagged. */
export type Cell = string | number | boolean | Date | null | undefined | { formula: true };
export const FORMULA: Cell = Object.freeze({ formula: true as const });

/** Header text → comparison key: case, spaces and punctuation do not count ("Tgl. Lahir" = "TGL_LAHIR"). */
export const headerKey = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

export const MAX_CELL_CHARS = 1000;
const MAX_TEXT = 200;
const DAY_MS = 86_400_000;
const EXCEL_EPOCH = Date.UTC(1899, 11, 30);

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const ymd = (y: number, m: number, d: number): string | undefined => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && y <= 2200 && t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : undefined;
};

type Parsed = { value: unknown } | { problem: string; params?: Record<string, string | number> };

function parseDate(cell: Cell): Parsed {
  if (cell instanceof Date) return dateOr(ymd(cell.getUTCFullYear(), cell.getUTCMonth() + 1, cell.getUTCDate()));
  if (typeof cell === 'number') {
    // An Excel date serial (days since 1899-12-30) in a cell without date format.
    if (!Number.isInteger(cell) || cell < 1 || cell > 120_000) return { problem: 'cell.date' };
    const t = new Date(EXCEL_EPOCH + cell * DAY_MS);
    return dateOr(ymd(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()));
  }
  const s = String(cell).trim();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (m) return dateOr(ymd(+m[1]!, +m[2]!, +m[3]!));
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  if (m) return dateOr(ymd(+m[3]!, +m[2]!, +m[1]!));
  return { problem: 'cell.date' };
}
const dateOr = (d: string | undefined): Parsed => (d ? { value: d } : { problem: 'cell.date' });

function parseTime(cell: Cell): Parsed {
  if (cell instanceof Date) return { value: `${pad(cell.getUTCHours())}:${pad(cell.getUTCMinutes())}` };
  if (typeof cell === 'number' && cell >= 0 && cell < 1) {
    const minutes = Math.round(cell * 1440);
    return { value: `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}` };
  }
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(String(cell).trim());
  if (!m || +m[1]! > 23 || +m[2]! > 59) return { problem: 'cell.time' };
  return { value: `${pad(+m[1]!)}:${m[2]}` };
}

function parseNumber(cell: Cell, unit: string | undefined): Parsed {
  if (typeof cell === 'number') return Number.isFinite(cell) ? { value: cell } : { problem: 'cell.number' };
  let s = String(cell).trim();
  if (unit && s.toLowerCase().endsWith(unit.toLowerCase())) s = s.slice(0, -unit.length).trim();
  // Decimal comma (Indonesian spreadsheets) or point; a thousands separator is ambiguous and refused.
  if (!/^-?\d{1,6}([.,]\d{1,4})?$/.test(s)) return { problem: 'cell.number' };
  return { value: Number(s.replace(',', '.')) };
}

function parseNik(cell: Cell): Parsed {
  if (typeof cell === 'number') {
    // A NIK typed into a number cell loses its last digits beyond 2^53: only an exact one is taken.
    return Number.isSafeInteger(cell) && String(cell).length === 16 ? { value: String(cell) } : { problem: 'cell.nik-number' };
  }
  const s = String(cell).trim().replace(/^'/, '').replace(/[\s.-]/g, '');
  return /^\d{16}$/.test(s) ? { value: s } : { problem: 'cell.nik' };
}

/** Value-map lookup, case/space/punctuation-insensitive; a Map so that no input key hits Object members. */
const valueTables = new WeakMap<TemplateColumn, Map<string, string>>();
const tableOf = (col: TemplateColumn): Map<string, string> => {
  let t = valueTables.get(col);
  if (!t) valueTables.set(col, (t = new Map(Object.entries(col.values ?? {}).map(([k, v]) => [headerKey(k), v]))));
  return t;
};
const allowed = (col: TemplateColumn) => Object.keys(col.values ?? {}).slice(0, 12).join(', ');

function parseCode(cell: Cell, col: TemplateColumn): Parsed {
  const v = tableOf(col).get(headerKey(String(cell)));
  return v !== undefined ? { value: v } : { problem: 'cell.code', params: { allowed: allowed(col) } };
}

/** "BCG, Polio 1; DPT-HB-Hib 2" → [{vaccine, dose}]: a dose number after the name, 1 when absent. */
function parseVaccines(cell: Cell, col: TemplateColumn): Parsed {
  const table = tableOf(col);
  const out: Array<{ vaccine: string; dose: number }> = [];
  for (const part of String(cell).split(/[,;+]/).map((p) => p.trim()).filter(Boolean)) {
    const whole = table.get(headerKey(part));
    const m = /^(.*?)[\s-]*(?:dosis\s*)?(\d{1,2})$/i.exec(part);
    const named = whole ?? (m ? table.get(headerKey(m[1]!)) : undefined);
    const dose = whole !== undefined ? 1 : m ? Number(m[2]) : NaN;
    if (named === undefined || !(dose >= 1 && dose <= 10)) return { problem: 'cell.vaccine', params: { allowed: allowed(col) } };
    out.push({ vaccine: named, dose });
  }
  return out.length ? { value: out } : { problem: 'cell.vaccine', params: { allowed: allowed(col) } };
}

export function parseCell(cell: Cell, col: TemplateColumn): Parsed {
  if (typeof cell === 'string' && cell.length > MAX_CELL_CHARS) return { problem: 'cell.too-long', params: { max: MAX_TEXT } };
  if (col.perVaccine && typeof cell === 'string') {
    const out: unknown[] = [];
    for (const part of cell.split(/[,;]/).map((p) => p.trim())) {
      const one = parseOne(part, col);
      if ('problem' in one) return one;
      out.push(one.value);
    }
    return { value: out };
  }
  const one = parseOne(cell, col);
  return col.perVaccine && 'value' in one ? { value: [one.value] } : one;
}

function parseOne(cell: Cell, col: TemplateColumn): Parsed {
  if (typeof cell === 'object' && cell !== null && !(cell instanceof Date)) return { problem: 'cell.formula' };
  // A leading '=' in a CSV cell is a formula that was not evaluated: refused like one (and never written back out).
  if (typeof cell === 'string' && /^[=]/.test(cell.trim())) return { problem: 'cell.formula' };
  switch (col.type) {
    case 'date': return parseDate(cell);
    case 'time': return parseTime(cell);
    case 'number': return parseNumber(cell, col.unit);
    case 'integer': {
      const n = parseNumber(cell, undefined);
      return 'value' in n && Number.isInteger(n.value) ? n : { problem: 'cell.integer' };
    }
    case 'nik': return parseNik(cell);
    case 'code': return parseCode(cell, col);
    case 'vaccines': return parseVaccines(cell, col);
    case 'text': {
      const s = cell instanceof Date ? cell.toISOString().slice(0, 10) : String(cell).trim();
      return s.length > MAX_TEXT ? { problem: 'cell.too-long', params: { max: MAX_TEXT } } : { value: s };
    }
  }
}


export const isEmpty = (c: Cell) => c === undefined || c === null || (typeof c === 'string' && c.trim() === '');
