import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { OperationOutcome } from 'fhir/r4.js';
import { runValidate } from '../../src/cli/commands/validate.js';
import { runCli } from '../../src/cli/program.js';
import { loadMappingTables, mapVisit, type MappingTables } from '../../src/mapping/index.js';
import { createValidator, type Validator } from '../../src/validation/index.js';
import { loadSamples } from '../api/helpers.js';
import { context, input, NOW, Sink } from './helpers.js';

let validator: Validator;
let tables: MappingTables;
let bundles: string[];
beforeAll(() => {
  validator = createValidator();
  tables = loadMappingTables();
  bundles = loadSamples().map((s) => {
    const b = mapVisit(s.record, tables, { now: NOW }).bundle;
    if (!b) throw new Error(`sample ${s.name} did not map`);
    return JSON.stringify(b);
  });
});

const VALID = JSON.stringify({ resourceType: 'Basic', code: { text: 'note' } });
const INVALID = JSON.stringify({ resourceType: 'Patient', gender: 'lelaki' });

async function run(text: string, opts: { format?: 'json' | 'text'; baseOnly?: boolean; locale?: 'id' | 'en' } = {}) {
  const output = new Sink();
  const errors = new Sink();
  const code = await runValidate({ input: input(text), output, errors, format: opts.format ?? 'json', baseOnly: opts.baseOnly ?? false, now: NOW, validator, locale: opts.locale ?? 'en' });
  return { code, output, errors };
}
const parse = (line: string) => JSON.parse(line) as OperationOutcome;
const isErr = (o: OperationOutcome) => o.issue.some((i) => i.severity === 'error' || i.severity === 'fatal');

describe('runValidate', () => {
  it('a single valid pretty-printed Bundle → one pretty OperationOutcome, exit 0', async () => {
    const clean = bundles.find((b) => !validator.validate(JSON.parse(b), { now: NOW }).some((i) => i.severity === 'error')) as string;
    const pretty = JSON.stringify(JSON.parse(clean), null, 2);
    const { code, output } = await run(pretty);
    expect(code).toBe(0);
    const oo = JSON.parse(output.text) as OperationOutcome;
    expect(oo.issue.filter((i) => i.severity === 'error')).toEqual([]);
    expect(output.text.split('\n').length).toBeGreaterThan(2); // pretty
  });

  it('NDJSON → one OperationOutcome per line in input order; any invalid → exit 1', async () => {
    const { code, output } = await run([VALID, INVALID, ...bundles].join('\n') + '\n');
    expect(code).toBe(1);
    const outs = output.lines.map(parse);
    expect(outs).toHaveLength(2 + bundles.length);
    const expected = bundles.map((b) => validator.validate(JSON.parse(b), { now: NOW, baseOnly: false }).some((i) => i.severity === 'error'));
    expect(outs.map(isErr)).toEqual([false, true, ...expected]);
    expect(outs[1]?.issue.some((i) => JSON.stringify(i).includes('gender'))).toBe(true);
  });

  it('a non-JSON line → fatal OperationOutcome naming the line (blank lines counted), exit 2 at the end', async () => {
    const { code, output } = await run(`${VALID}\n\n{oops 3171012501900001\n${INVALID}\n`);
    expect(code).toBe(2);
    const outs = output.lines.map(parse);
    expect(outs).toHaveLength(3);
    expect(outs[1]?.issue[0]).toMatchObject({ severity: 'fatal', code: 'structure', diagnostics: expect.stringMatching(/^line 3: not valid JSON/) });
    expect(output.text).not.toContain('3171012501900001');
    expect(isErr(outs[2] as OperationOutcome)).toBe(true); // processing continued after the bad line
  });

  it('JSON that is not a resource → exit 2', async () => {
    expect((await run('{"id":"x"}\n')).code).toBe(2);
    expect((await run('[1,2]\n')).code).toBe(2);
    expect((await run('"text"\n')).code).toBe(2);
  });

  it('deep nesting in a line → fatal too-costly for that line, no crash', async () => {
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    const { code, output } = await run(`${deep}\n${VALID}\n`);
    expect(code).toBe(2);
    expect(parse(output.lines[0] as string).issue[0]?.code).toBe('too-costly');
    expect(isErr(parse(output.lines[1] as string))).toBe(false);
  });

  it('empty input → exit 2 with a message', async () => {
    const { code, errors } = await run('\n\n');
    expect(code).toBe(2);
    expect(errors.text).toMatch(/empty/);
  });

  it('--base-r4 applies base rules only', async () => {
    const enc = JSON.parse(bundles[0] as string).entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Encounter').resource;
    delete enc.identifier;
    const full = await run(JSON.stringify(enc));
    const base = await run(JSON.stringify(enc), { baseOnly: true });
    expect(full.code).toBe(1);
    expect(base.code).toBe(0);
  });

  it('--format text prints a readable summary', async () => {
    const { code, output } = await run(`${VALID}\n${INVALID}\nnope\n`, { format: 'text' });
    expect(code).toBe(2);
    expect(output.text).toMatch(/^line 1: valid Basic/m);
    expect(output.text).toMatch(/^line 2: INVALID Patient: \d+ errors?/m);
    expect(output.text).toMatch(/^ {2}error +\S+ .*gender/m);
    expect(output.text).toMatch(/^line 3: UNUSABLE/m);
    expect(output.text).toMatch(/^3 checked: 1 valid, 1 invalid, 1 unusable$/m);
  });

  it('says its own lines in Bahasa Indonesia by default; the FHIR issues stay English', async () => {
    const { output } = await run(`${VALID}\n${INVALID}\nnope\n`, { format: 'text', locale: 'id' });
    expect(output.text).toMatch(/^baris 1: Basic valid/m);
    expect(output.text).toMatch(/^baris 2: Patient TIDAK VALID: \d+ galat/m);
    expect(output.text).toMatch(/^ {2}error +\S+ .*gender/m);
    expect(output.text).toMatch(/^baris 3: TIDAK DAPAT DIPAKAI\n {2}fatal +structure +baris 3: bukan JSON yang valid$/m);
    expect(output.text).toMatch(/^3 diperiksa: 1 valid, 1 tidak valid, 1 tidak dapat dipakai$/m);
    const json = await run('nope\n', { locale: 'id' });
    expect(JSON.parse(json.output.text.trim()).issue[0].diagnostics).toBe('baris 1: bukan JSON yang valid');
    const array = await run('[1]\n', { locale: 'id' });
    expect(JSON.parse(array.output.text.trim()).issue[0].diagnostics).toBe('butir 1: bukan resource FHIR (diharapkan objek JSON)');
  });
});

describe('review findings, second round (issue 3): outcomes identify their input line', () => {
  const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

  it('NDJSON: each OperationOutcome has id line-N (1-based, blank lines counted but given no outcome)', async () => {
    const { code, output } = await run(`\n${VALID}\n\n${INVALID}\r\n   \n{oops\n${VALID}\n`);
    expect(code).toBe(2);
    const outs = output.lines.map(parse);
    expect(outs.map((o) => o.id)).toEqual(['line-2', 'line-4', 'line-6', 'line-7']);
    expect(outs.map((o) => o.issue[0]?.severity)).toEqual(['information', 'error', 'fatal', 'information']);
    for (const o of outs) expect(o.id).toMatch(FHIR_ID);
  });

  it('the id is a legal FHIR id: every emitted OperationOutcome passes our own validator', async () => {
    const { output } = await run(`${VALID}\n${INVALID}\nnope\n`);
    for (const o of output.lines.map(parse)) expect(validator.validate(o, { now: NOW }).filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('a single document (pretty or one line) gets the id of the line it starts on', async () => {
    expect(parse((await run(VALID)).output.text).id).toBe('line-1');
    const pretty = await run(`\n\n${JSON.stringify(JSON.parse(INVALID), null, 2)}\n`);
    expect(pretty.code).toBe(1);
    expect(parse(pretty.output.text).id).toBe('line-3');
  });

  it('a top-level JSON array: one outcome per element, id item-N', async () => {
    const { code, output } = await run(`[\n${VALID},\n${INVALID},\n42\n]\n`);
    expect(code).toBe(2);
    expect(output.lines.map(parse).map((o) => [o.id, o.issue[0]?.severity])).toEqual([
      ['item-1', 'information'],
      ['item-2', 'error'],
      ['item-3', 'fatal'],
    ]);
  });

  it('a document that does not parse is replayed as NDJSON: the outcomes keep the real line numbers', async () => {
    const { output } = await run(`{\n${VALID}\n`);
    expect(output.lines.map(parse).map((o) => o.id)).toEqual(['line-1', 'line-2']);
  });

  it('the help explains the line-N ids and the blank-line rule', async () => {
    const ctx = context('', { validator, mapper: () => ({ issues: [] }) });
    expect(await runCli(['validate', '--help'], ctx)).toBe(0);
    expect(ctx.out.text).toMatch(/line-N/);
    expect(ctx.out.text).toMatch(/blank lines/i);
    expect(ctx.out.text).toMatch(/item-N/);
  });

  it("malformed or unknown resourceType ('patient', 'Foo') → invalid (exit 1), an error issue, PII-like names not echoed", async () => {
    for (const rt of ['patient', 'Foo', 'PATIENT', 'Patient ']) {
      const { code, output } = await run(JSON.stringify({ resourceType: rt, gender: 'male' }));
      expect(code).toBe(1);
      expect(parse(output.text).issue).toEqual([expect.objectContaining({ severity: 'error', code: 'not-supported' })]);
    }
    const nik = await run(JSON.stringify({ resourceType: '3171012345678901' }));
    expect(nik.code).toBe(1);
    const name = await run(JSON.stringify({ resourceType: 'Budi Santoso' }));
    expect(name.code).toBe(1);
    expect(nik.output.text + name.output.text).not.toMatch(/3171012345678901|Budi/);
    // missing, empty or non-string resourceType stays unusable input (exit 2)
    for (const body of ['{"id":"x"}', '{"resourceType":""}', '{"resourceType":42}']) expect((await run(body)).code).toBe(2);
  });
});

describe('ilp-adapter validate (commander wiring)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ilp-validate-'));
  const deps = () => ({ validator, mapper: () => ({ issues: [] }) });

  it('reads a file and exits 0 for a valid one', async () => {
    const f = path.join(dir, 'ok.json');
    writeFileSync(f, VALID);
    const ctx = context('', deps());
    expect(await runCli(['validate', f], ctx)).toBe(0);
    expect(parse(ctx.out.text).issue[0]?.severity).toBe('information');
  });

  it("reads stdin with '-', and --format text / --base-r4 are wired", async () => {
    const ctx = context(`${INVALID}\n`, deps());
    expect(await runCli(['validate', '-', '--format', 'text', '--base-r4', '--lang', 'en'], ctx)).toBe(1);
    expect(ctx.out.text).toMatch(/INVALID Patient/);
  });

  it('an unreadable file → exit 2 with a message on stderr, in --lang (default ILP_LANG, else id)', async () => {
    const ctx = context('', deps());
    expect(await runCli(['validate', path.join(dir, 'missing.json'), '--lang', 'en'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/^validate: .*missing\.json: no such file$/m);
    expect(ctx.out.text).toBe('');
    const id = context('', deps());
    const saved = process.env.ILP_LANG;
    delete process.env.ILP_LANG;
    try {
      expect(await runCli(['validate', path.join(dir, 'missing.json')], id)).toBe(2);
    } finally {
      if (saved !== undefined) process.env.ILP_LANG = saved;
    }
    expect(id.err.text).toMatch(/^validate: .*missing\.json: berkas tidak ada$/m);
    const bad = context('', deps());
    expect(await runCli(['validate', '-', '--lang', 'fr'], bad)).toBe(2);
    expect(bad.err.text).toMatch(/--lang (must be id or en|harus id atau en)/);
  });

  it('usage errors exit 2; help exits 0', async () => {
    expect(await runCli(['validate'], context('', deps()))).toBe(2);
    expect(await runCli(['validate', '-', '--format', 'xml'], context('', deps()))).toBe(2);
    expect(await runCli(['frobnicate'], context('', deps()))).toBe(2);
    expect(await runCli(['validate', '-', '--now', 'yesterday'], context(VALID, deps()))).toBe(2);
    const help = context('', deps());
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.out.text).toMatch(/validate/);
    expect(help.out.text).toMatch(/map/);
    expect(await runCli([], context('', deps()))).toBe(2);
  });
});
