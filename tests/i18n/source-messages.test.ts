// Messages that issues carry as state (src/i18n/issues.ts): every key the code uses exists in both languages, the schema's
// own wording is in the catalogue word for word, and an issue renders in either language from its key and parameters.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { hasMessage, issueText, localizeIssues, localizeOutcome, messageIssue, renderMessage } from '../../src/i18n/issues.js';
import { loadCatalogue } from '../../src/i18n/index.js';
import { schemaAnnotations } from '../../src/mapping/source-schema.js';
import { loadMappingTables } from '../../src/mapping/tables.js';
import { checkVisit } from '../../src/mapping/check.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { packageRoot } from '../../src/util/paths.js';

const AREAS = ['source', 'source-schema', 'api', 'sync', 'facility-status', 'import'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
  });
}

/** Every literal `'<area>.<key>'` in src/, and the keys passed without their area to the helpers that add it. */
function keysUsedInCode(): Map<string, string> {
  const used = new Map<string, string>();
  const literal = new RegExp(`['\`](${AREAS.join('|')})\\.([\\w.-]+)['\`]`, 'g');
  for (const file of sourceFiles(path.join(packageRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const at = path.relative(packageRoot, file);
    // apiError(status, code, 'key', …) → api.key (its key may look like another area's: 'sync.wait')
    const apiKeys = [...text.matchAll(/apiError\(\d+, '[\w-]+', '([\w.-]+)'/g)];
    for (const m of apiKeys) used.set(`api.${m[1]}`, at);
    const asApiKey = new Set(apiKeys.map((m) => m.index! + m[0].length - m[1]!.length - 2));
    for (const m of text.matchAll(literal)) if (!asApiKey.has(m.index!)) used.set(`${m[1]}.${m[2]}`, at);
    // src/sync/identity.ts: blocked('key', …) and createPatient(…, 'key', …) → sync.key
    for (const m of text.matchAll(/blocked\('([\w.-]+)'/g)) used.set(`sync.${m[1]}`, at);
    for (const m of text.matchAll(/'(patient\.[\w-]+-not-created)'/g)) used.set(`sync.${m[1]}`, at);
    // src/api/errors.ts requireObjectBody(req, 'api.what.…') is caught by the literal pattern above.
  }
  return used;
}

describe('message keys used by code', () => {
  const used = keysUsedInCode();

  it('are found (the scan sees the producers)', () => {
    for (const k of ['source.time.future', 'source.schema.required', 'source.location.unconfigured', 'api.no-route', 'sync.practitioner.not-found', 'facility-status.probe.refused']) {
      expect(used.has(k)).toBe(true);
    }
    expect(used.size).toBeGreaterThan(150);
  });

  it('every one exists in its catalogue (both languages: the loader refuses a file missing one)', () => {
    // Keys built at run time from a fixed family: each member listed here.
    const families = [
      ...['string', 'number', 'integer', 'object', 'array', 'boolean'].map((t) => `source.schema.type.${t}`),
      ...['at', 'top', 'at-unplaced', 'top-unplaced'].map((v) => `source.schema.unknown-field.${v}`),
      'facility-status.probe.forbidden-said', 'facility-status.probe.refused-said',
    ];
    const missing = [...used.keys(), ...families].filter((k) => !hasMessage(k) && !k.endsWith('.') && !/\.\$\{/.test(k));
    expect(missing).toEqual([]);
  });

  it('every source-record message is used (no dead words in messages/source.json)', () => {
    const unused = [...loadCatalogue('source').keys()].map((k) => `source.${k}`).filter((k) => !used.has(k) && !/^source\.schema\.(type|unknown-field)\./.test(k));
    expect(unused).toEqual([]);
  });
});

describe('the contract schema wording', () => {
  it('every x-expected / x-anyOf of mappings/ilp-visit.schema.json is in messages/source-schema.json, English word for word', () => {
    const tables = loadMappingTables();
    const catalogue = loadCatalogue('source-schema');
    const annotations = schemaAnnotations(tables.schema);
    expect(annotations.length).toBeGreaterThan(20);
    for (const a of annotations) expect({ at: a.pointer, en: catalogue.get(`${a.annotation} ${a.pointer}`)?.en }).toEqual({ at: a.pointer, en: a.text });
    expect(catalogue.size).toBe(annotations.length);
  });
});

describe('issues with a message', () => {
  const tables = loadMappingTables();
  const NOW = new Date('2026-10-05T12:00:00+07:00');
  const sample = JSON.parse(readFileSync(path.join(packageRoot, 'mappings', 'samples', 'toddler-growth-monitoring.visit.json'), 'utf8')) as Record<string, any>;

  it('keep the English text as diagnostics and say it in Bahasa Indonesia at the edge, rule suffix kept', () => {
    const record = structuredClone(sample);
    record.immunizations = [{ vaccine: 'BCG', dose: 1, status: 'completed', source: 'administered', expirationDate: '2027-01-01' }];
    const issues = checkVisit(record, tables, { now: NOW });
    const lot = issues.find((i) => i.expression?.[0] === 'immunizations[0].lotNumber')!;
    expect(lot.diagnostics).toBe('immunizations[0].lotNumber is required for a vaccine given at this visit (RuleNumber: 10306)');
    expect(lot.message).toEqual({ key: 'source.immunization.required-given', params: { path: 'immunizations[0].lotNumber' } });
    const [id] = localizeIssues([lot], 'id');
    expect(id!.diagnostics).toBe('immunizations[0].lotNumber wajib diisi untuk vaksin yang diberikan pada kunjungan ini (RuleNumber: 10306)');
    expect(localizeIssues([lot], 'en')[0]).toBe(lot);
  });

  it('Ajv errors are said in the reader\'s language too, with the contract\'s own wording of the expected form', () => {
    const record = structuredClone(sample);
    record.patient.birthDate = '5 Oktober 2024';
    const [issue] = checkVisit(record, tables, { now: NOW }).filter((i) => i.expression?.[0] === 'patient.birthDate');
    expect(issue!.diagnostics).toBe('patient.birthDate must be a date as YYYY-MM-DD');
    expect(issueText(issue!, 'id')).toBe('patient.birthDate harus berupa tanggal dengan format YYYY-MM-DD');
  });

  it('a value that could be a NIK is never echoed, in either language', () => {
    const record = structuredClone(sample);
    record.measurements = [{ code: 'body-weight', value: 3171012501900001, unit: 'kg' }];
    const [issue] = checkVisit(record, tables, { now: NOW }).filter((i) => i.expression?.[0] === 'measurements[0].value');
    expect(issue!.diagnostics).toMatch(/^measurements\[0\]\.value the value given kg is outside the plausible range/);
    expect(issueText(issue!, 'id')).toMatch(/^measurements\[0\]\.value nilai yang dikirim kg di luar rentang/);
    expect(JSON.stringify(issue)).not.toContain('3171012501900001');
  });

  it('fragments (@name parameters) are rendered in the same language; a missing key or parameter is a defect', () => {
    expect(renderMessage('id', 'source.finding.wrong-kind', { path: 'findings[0].value', code: 'gravida', '@expected': 'source.kind.integer' }))
      .toBe('findings[0].value harus bilangan bulat untuk gravida');
    expect(() => renderMessage('id', 'source.no.such.key')).toThrow(/no message/);
    expect(() => renderMessage('id', 'source.time.future')).toThrow(/parameter path missing/);
    expect(() => messageIssue('error', 'value', 'nokey')).toThrow(/names no area/);
  });

  it('a stored outcome keeps the message in an extension and renders without it; an older issue keeps its text', () => {
    const stored = toOperationOutcome([
      messageIssue('error', 'not-found', 'sync.practitioner.not-found', {}, 'practitioner.nik'),
      { severity: 'error', code: 'invalid', diagnostics: 'platform words (RuleNumber: 10117)' },
    ], undefined, true);
    expect(stored.issue[0]!.extension).toHaveLength(1);
    const id = localizeOutcome(stored, 'id');
    expect(id.issue[0]).toEqual({ severity: 'error', code: 'not-found', expression: ['practitioner.nik'],
      diagnostics: 'Tidak ada tenaga kesehatan SATUSEHAT (indeks Nakes) yang terdaftar dengan NIK ini; data nakes hanya dapat dibaca: daftarkan nakes di SATUSEHAT atau kirim practitioner.ihsNumber' });
    expect(id.issue[1]).toEqual(stored.issue[1]);
    expect(localizeOutcome(stored, 'en').issue[0]!.diagnostics).toMatch(/^No SATUSEHAT practitioner/);
    expect(localizeOutcome(stored, 'en').issue[0]!.extension).toBeUndefined();
  });
});
