// Spreadsheet templates (mappings/imports/<name>.json): which header fills which visit-record field and how a cell is
// read. Pure: a row of cells → a visit record, or the problems at its columns. A new template is a new table, no code.
import { AppError } from '../util/app-error.js';
import type { MessageRef } from '../validation/outcome.js';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { ownEntry } from '../util/own.js';
import { headerKey, isEmpty, parseCell, type Cell } from './import-cells.js';

export { FORMULA, headerKey, MAX_CELL_CHARS, type Cell } from './import-cells.js';

export const importsDir = path.join(mappingsDir, 'imports');

export const CELL_TYPES = ['text', 'nik', 'integer', 'number', 'date', 'time', 'code', 'vaccines'] as const;
export type CellType = (typeof CELL_TYPES)[number];

export interface TemplateColumn {
  key: string;
  header: string;
  aliases?: string[];
  type: CellType;
  /** A record path (patient.nik), `measurement:<code>` (`measurement:*` with codeBy), `finding:<code>`, `immunizations`, or `$visitDate` / `$visitTime` / `$position`. */
  target: string;
  required?: boolean;
  values?: Record<string, string>;
  unit?: string;
  unitAbove?: { value: number; unit: string };
  needs?: string;
  codeBy?: Record<string, string>;
  /** One value per vaccine of the Imunisasi cell, comma-separated in the same order (batch number, expiry date). */
  perVaccine?: boolean;
}

export interface ImportTemplate {
  name: string;
  version: string;
  setting: string;
  defaults: { citizenship: string; time: string; utcOffset: string; durationMinutes: number };
  columns: TemplateColumn[];
  notImported: Array<{ header: string; aliases?: string[]; why: string }>;
}


/** A problem at a cell or row: a message key of messages/import.json (its kind) and its parameters. */
export interface CellProblem {
  kind: string;
  column?: string;
  params?: Record<string, string | number>;
  /** Text from the record checks (English), when the problem comes from there. */
  diagnostics?: string;
  /** That text's catalogue message, when it has one (said in the operator's language). */
  message?: MessageRef;
}

/** A template table that cannot be used (AppError kind 'import-template'); the message names the file and the entry. */
export class TemplateError extends AppError {
  constructor(message: string) {
    super('import-template', message);
  }
}


const isRecord = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** Checks a template table's shape; throws TemplateError naming the file and the entry. */
export function parseTemplate(raw: unknown, file: string): ImportTemplate {
  const fail = (what: string): never => {
    throw new TemplateError(`${file}: ${what}`);
  };
  if (!isRecord(raw)) fail('not a JSON object');
  const t = raw as Record<string, unknown>;
  for (const k of ['name', 'version', 'setting']) if (typeof ownEntry(t, k) !== 'string') fail(`"${k}" must be text`);
  const d = t.defaults;
  if (!isRecord(d) || typeof d.citizenship !== 'string' || typeof d.time !== 'string' || typeof d.utcOffset !== 'string' || typeof d.durationMinutes !== 'number') {
    fail('"defaults" needs citizenship, time, utcOffset and durationMinutes');
  }
  if (!Array.isArray(t.columns) || !t.columns.length) fail('"columns" must be a non-empty array');
  const seen = new Set<string>();
  (t.columns as unknown[]).forEach((c, i) => {
    if (!isRecord(c) || typeof c.key !== 'string' || typeof c.header !== 'string' || typeof c.target !== 'string') fail(`columns[${i}] needs key, header and target`);
    const col = c as unknown as TemplateColumn;
    if (!(CELL_TYPES as readonly string[]).includes(col.type)) fail(`columns[${i}].type must be one of ${CELL_TYPES.join(', ')}`);
    if ((col.type === 'code' || col.type === 'vaccines') && !isRecord(col.values)) fail(`columns[${i}] (${col.type}) needs "values"`);
    if (col.target.startsWith('measurement:') && typeof col.unit !== 'string') fail(`columns[${i}] (a measurement) needs "unit"`);
    if (col.target === 'measurement:*' && (!isRecord(col.codeBy) || !col.needs)) fail(`columns[${i}] (measurement:*) needs "needs" and "codeBy"`);
    for (const h of [col.header, ...(col.aliases ?? [])]) {
      const k = headerKey(h);
      if (seen.has(k)) fail(`header "${h}" appears twice`);
      seen.add(k);
    }
  });
  const keys = new Set((t.columns as TemplateColumn[]).map((c) => c.key));
  for (const c of t.columns as TemplateColumn[]) if (c.needs && !keys.has(c.needs)) fail(`column ${c.key} needs unknown column ${c.needs}`);
  const notImported = Array.isArray(t.notImported) ? (t.notImported as ImportTemplate['notImported']) : [];
  return { name: t.name as string, version: t.version as string, setting: t.setting as string, defaults: d as ImportTemplate['defaults'], columns: t.columns as TemplateColumn[], notImported };
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

/** The templates in mappings/imports/ (their names, sorted): what an operator may choose from. */
export function templateNames(dir = importsDir): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((n) => TEMPLATE_NAME.test(n)).sort();
}

/** The template mappings/imports/<name>.json; an unknown name or a malformed table throws TemplateError. */
export function loadTemplate(name: string, dir = importsDir): ImportTemplate {
  if (!TEMPLATE_NAME.test(name)) throw new TemplateError(`unknown template`);
  const file = path.join(dir, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new TemplateError(`unknown template`);
  }
  return parseTemplate(raw, file);
}

export interface HeaderMap {
  /** Per cell position: the template column it fills (absent: not imported). */
  at: Array<TemplateColumn | undefined>;
  /** The header text as the file spells it, per template column key. */
  headerOf: Map<string, string>;
  notImported: string[];
  unknown: string[];
  /** Cells in the header row. */
  width: number;
}

export const MAX_COLUMNS = 100;

/** Reads the header row; a file problem (kind `file.*`) when the sheet cannot be imported with this template. */
export function resolveHeader(template: ImportTemplate, cells: readonly Cell[]): HeaderMap | CellProblem {
  if (cells.length > MAX_COLUMNS) return { kind: 'file.too-many-columns', params: { max: MAX_COLUMNS } };
  const byKey = new Map<string, TemplateColumn>();
  for (const c of template.columns) for (const h of [c.header, ...(c.aliases ?? [])]) byKey.set(headerKey(h), c);
  const ignored = new Set(template.notImported.flatMap((n) => [n.header, ...(n.aliases ?? [])]).map(headerKey));
  const out: HeaderMap = { at: [], headerOf: new Map(), notImported: [], unknown: [], width: cells.length };
  cells.forEach((cell, i) => {
    const text = typeof cell === 'string' ? cell.trim() : typeof cell === 'number' ? String(cell) : '';
    if (!text) return;
    const col = byKey.get(headerKey(text));
    if (col) {
      if (out.headerOf.has(col.key)) return; // the first of two columns for one field wins; the second is reported below
      out.at[i] = col;
      out.headerOf.set(col.key, text.slice(0, 60));
    } else (ignored.has(headerKey(text)) ? out.notImported : out.unknown).push(text.slice(0, 60));
  });
  const duplicated = cells.filter((c, i) => typeof c === 'string' && byKey.has(headerKey(c)) && out.at[i] === undefined);
  if (duplicated.length) return { kind: 'file.duplicate-column', params: { column: String(duplicated[0]).slice(0, 60) } };
  const missing = template.columns.filter((c) => c.required && !out.headerOf.has(c.key)).map((c) => c.header);
  if (missing.length) return { kind: 'file.missing-columns', params: { columns: missing.join(', ') } };
  return out;
}

export const isBlankRow = (cells: readonly Cell[]) => cells.every(isEmpty);

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= Object.create(null) as Record<string, unknown>) as Record<string, unknown>;
  at[parts[parts.length - 1]!] = value;
}

export interface RowContext {
  organizationId: string;
  /** Keys the visitId hash, so that the id shows no NIK and cannot be reversed by trying NIKs. */
  idKey: Buffer;
  /** The facility's IANA time zone (facilities file): register times are its local times. Absent ⇒ the template's utcOffset. */
  timeZone?: string;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The UTC offset (+08:00) of `timeZone` on `date` (YYYY-MM-DD), at midday. */
export function utcOffsetOn(timeZone: string, date: string): string {
  let f = offsetFormats.get(timeZone);
  if (!f) offsetFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(new Date(`${date}T12:00:00Z`)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT([+-]\d{2}:\d{2})$/.exec(name);
  return m ? m[1]! : '+00:00';
}

export type RowResult =
  | { status: 'record'; record: Record<string, unknown>; columnOf: (expression: string) => string | undefined }
  /** `visitId`: the row's id when its child and visit date could be read, so its rejection entry names the visit it would be. */
  | { status: 'problems'; problems: CellProblem[]; visitId?: string };

/** The visitId of a row: same template, facility, child and visit date → same id (a corrected file revises). */
export function derivedVisitId(template: string, org: string, identity: string, visitDate: string, key: Buffer): string {
  const h = createHmac('sha256', key).update(`${template}\n${org}\n${identity}\n${visitDate}`).digest('base64url').replace(/[-_]/g, '').slice(0, 22);
  return `${template}-${visitDate.replaceAll('-', '')}-${h}`;
}

/** `date` + `time` + minutes as a local date-time with the template's offset. */
function localDateTime(date: string, time: string, plusMinutes: number, offset: string): string {
  const t = new Date(Date.parse(`${date}T${time}:00Z`) + plusMinutes * 60_000);
  return `${t.toISOString().slice(0, 19)}${offset}`;
}

/** One data row → a visit record (with a map from record paths back to the file's columns), or its problems. */
export function rowToRecord(template: ImportTemplate, header: HeaderMap, cells: readonly Cell[], ctx: RowContext): RowResult {
  const problems: CellProblem[] = [];
  const values = new Map<string, unknown>();
  // The file's spelling of a column; a column the file lacks is named as the template names it (the one to add).
  const colName = (key: string) => header.headerOf.get(key) ?? template.columns.find((c) => c.key === key)?.header ?? key;
  // A few stray cells past the headers are common (a note typed beside the row); many are a different sheet.
  if (cells.length > header.width + 20 && cells.slice(header.width).some((c) => !isEmpty(c))) {
    problems.push({ kind: 'row.too-many-cells', params: { max: header.width } });
  }
  header.at.forEach((col, i) => {
    if (!col) return;
    const cell = cells[i];
    if (isEmpty(cell)) return;
    const parsed = parseCell(cell, col);
    if ('problem' in parsed) problems.push({ kind: parsed.problem, column: colName(col.key), ...(parsed.params ? { params: parsed.params } : {}) });
    else values.set(col.key, parsed.value);
  });
  for (const col of template.columns) {
    if (col.required && !values.has(col.key) && !problems.some((p) => p.column === colName(col.key))) problems.push({ kind: 'cell.required', column: colName(col.key) });
    if (col.needs && values.has(col.key) && !values.has(col.needs)) problems.push({ kind: 'cell.needs', column: colName(col.needs), params: { other: colName(col.key) } });
  }
  const byKey = new Map(template.columns.map((c) => [c.key, c]));
  const keyOfTarget = (target: string) => template.columns.find((c) => c.target === target)?.key;
  const nik = values.get(keyOfTarget('patient.nik') ?? '') as string | undefined;
  const motherNik = values.get(keyOfTarget('patient.motherNik') ?? '') as string | undefined;
  const birthOrder = values.get(keyOfTarget('patient.birthOrder') ?? '') as number | undefined;
  const identity = nik ? `nik:${nik}` : motherNik && birthOrder !== undefined ? `ibu:${motherNik}:${birthOrder}` : undefined;
  const nikColumn = colName(keyOfTarget('patient.nik') ?? 'nik');
  if (!identity && !problems.some((p) => p.column === nikColumn || p.column === colName(keyOfTarget('patient.motherNik') ?? ''))) {
    problems.push({ kind: 'row.identity', column: nikColumn });
  }
  const dateRead = values.get(keyOfTarget('$visitDate')!) as string | undefined;
  if (problems.length) {
    return { status: 'problems', problems, ...(identity && dateRead ? { visitId: derivedVisitId(template.name, ctx.organizationId, identity, dateRead, ctx.idKey) } : {}) };
  }

  const visitDate = dateRead!; // a row without problems has read its (required) visit date
  const time = (values.get(keyOfTarget('$visitTime') ?? '') as string | undefined) ?? template.defaults.time;
  const position = values.get(keyOfTarget('$position') ?? '') as string | undefined;
  const offset = ctx.timeZone ? utcOffsetOn(ctx.timeZone, visitDate) : template.defaults.utcOffset;
  const start = localDateTime(visitDate, time, 0, offset);
  const record: Record<string, unknown> = {
    organizationId: ctx.organizationId,
    visitId: derivedVisitId(template.name, ctx.organizationId, identity!, visitDate, ctx.idKey),
    setting: template.setting,
    start,
    end: localDateTime(visitDate, time, template.defaults.durationMinutes, offset),
    patient: { citizenship: template.defaults.citizenship },
    practitioner: {},
  };
  // Record path → column key, to put a record-check issue back at the column the operator typed it in.
  const pathColumn = new Map<string, string>([['start', keyOfTarget('$visitDate')!], ['end', keyOfTarget('$visitDate')!]]);
  const measurements: unknown[] = [];
  const findings: unknown[] = [];
  const immunizations: unknown[] = [];
  for (const [key, value] of values) {
    const col = byKey.get(key)!;
    if (col.target.startsWith('$') || col.perVaccine) continue;
    if (col.target.startsWith('measurement:')) {
      const code = col.target === 'measurement:*' ? ownEntry(col.codeBy ?? {}, String(position)) : col.target.slice('measurement:'.length);
      const unit = col.unitAbove && (value as number) > col.unitAbove.value ? col.unitAbove.unit : col.unit!;
      pathColumn.set(`measurements[${measurements.length}]`, key);
      measurements.push({ code, value, unit, ...(col.target === 'measurement:*' && position ? { position } : {}) });
    } else if (col.target.startsWith('finding:')) {
      pathColumn.set(`findings[${findings.length}]`, key);
      findings.push({ code: col.target.slice('finding:'.length), value });
    } else if (col.target === 'immunizations') {
      for (const v of value as Array<{ vaccine: string; dose: number }>) {
        pathColumn.set(`immunizations[${immunizations.length}]`, key);
        immunizations.push({ ...v, status: 'completed', source: 'administered', givenAt: start });
      }
    } else {
      pathColumn.set(col.target, key);
      setPath(record, col.target, value);
    }
  }
  for (const [key, value] of values) {
    const col = byKey.get(key)!;
    if (!col.perVaccine || !col.target.startsWith('immunizations.')) continue;
    const list = value as unknown[];
    if (list.length !== immunizations.length) {
      return { status: 'problems', problems: [{ kind: 'cell.per-vaccine', column: colName(key), params: { count: immunizations.length, other: colName(keyOfTarget('immunizations') ?? '') } }] };
    }
    const field = col.target.slice('immunizations.'.length);
    list.forEach((v, i) => {
      Object.assign(immunizations[i] as object, { [field]: v });
      pathColumn.set(`immunizations[${i}].${field}`, key);
    });
  }
  if (nik) delete (record.patient as Record<string, unknown>).motherNik; // nik given ⇒ motherNik is not used (contract)
  if (measurements.length) record.measurements = measurements;
  if (findings.length) record.findings = findings;
  if (immunizations.length) record.immunizations = immunizations;
  const columnOf = (expression: string): string | undefined => {
    // The longest recorded path the issue sits in, else the first template column under the path.
    let best: string | undefined;
    for (const p of pathColumn.keys()) {
      if ((expression === p || expression.startsWith(`${p}.`) || expression.startsWith(`${p}[`)) && (!best || p.length > best.length)) best = p;
    }
    const key = best ? pathColumn.get(best) : template.columns.find((c) => c.target.startsWith(`${expression}.`) || c.target === expression)?.key;
    return key ? colName(key) : undefined;
  };
  return { status: 'record', record: JSON.parse(JSON.stringify(record)) as Record<string, unknown>, columnOf };
}
