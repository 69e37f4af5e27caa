import type { Bundle, OperationOutcome } from 'fhir/r4.js';
import { runMap } from '../../src/cli/commands/map.js';
import { runCli } from '../../src/cli/program.js';
import { dryRun, type Mapper } from '../../src/app/dry-run.js';
import { loadMappingTables, mapVisit, type MappingTables } from '../../src/mapping/index.js';
import { createValidator, type Validator } from '../../src/validation/index.js';
import { loadSamples, personalValues, type Sample } from '../api/helpers.js';
import { context, input, NOW, Sink } from './helpers.js';

let validator: Validator;
let tables: MappingTables;
let mapper: Mapper;
let samples: Sample[];
beforeAll(() => {
  validator = createValidator();
  tables = loadMappingTables();
  mapper = (record, now) => mapVisit(record, tables, { now });
  samples = loadSamples();
  clean = samples.filter((s) => dryRun(s.record, { mapper, validator, now: NOW }).status === 'mapped');
});
let clean: Sample[];

async function run(text: string, verbose = false) {
  const output = new Sink();
  const errors = new Sink();
  const code = await runMap({ input: input(text), output, errors, verbose, now: NOW, mapper, validator });
  return { code, output, errors };
}

const line = (o: unknown) => JSON.stringify(o);

describe('runMap', () => {
  it('one Bundle per record, as JSON lines in input order, identical to mapVisit; exit 0', async () => {
    expect(clean.length).toBeGreaterThanOrEqual(3);
    const { code, output, errors } = await run(clean.map((s) => line(s.record)).join('\n'));
    expect(code).toBe(0);
    expect(errors.text).toBe('');
    const out = output.lines.map((l) => JSON.parse(l) as Bundle);
    expect(out).toHaveLength(clean.length);
    out.forEach((b, i) => expect(b).toEqual(JSON.parse(JSON.stringify(mapVisit((clean[i] as Sample).record, tables, { now: NOW }).bundle))));
  });

  it('a single pretty-printed record maps to one line', async () => {
    const { code, output } = await run(JSON.stringify(clean[0]?.record, null, 2));
    expect(code).toBe(0);
    expect(output.lines).toHaveLength(1);
    expect((JSON.parse(output.lines[0] as string) as Bundle).type).toBe('transaction');
  });

  it('an invalid record → its OperationOutcome on stderr with the line number, others still mapped, exit 1', async () => {
    const bad: Record<string, unknown> = { ...(clean[0] as Sample).record, start: '2099-01-01T08:00:00+07:00' };
    const text = [line(clean[0]?.record), '', line(bad), line(clean[1]?.record)].join('\n');
    const { code, output, errors } = await run(text);
    expect(code).toBe(1);
    expect(output.lines).toHaveLength(2);
    const reports = errors.lines.map((l) => JSON.parse(l) as { line: number; status: string; outcome: OperationOutcome });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ line: 3, status: 'invalid', visitId: bad.visitId });
    expect(reports[0]?.outcome.issue.some((i) => (i.expression ?? []).some((e) => e.startsWith('start')))).toBe(true);
    for (const v of personalValues(bad)) expect(errors.text).not.toContain(v);
  });

  it('an invalid visitId holding a NIK and a name is not echoed in the stderr report', async () => {
    const rec = (clean[0] as Sample).record;
    const bad = { ...rec, visitId: '3273010508260001 Muhammad Rafi' };
    const { code, errors } = await run(line(bad));
    expect(code).toBe(1);
    const report = JSON.parse(errors.lines[0] as string) as { line: number; visitId?: string };
    expect(report.line).toBe(1);
    expect(report.visitId).toBeUndefined();
    expect(errors.text).not.toMatch(/3273010508260001|Muhammad/);
    // A well-formed visitId is kept for correlation; long digit runs inside it are masked as in the logs.
    const ok = await run(line({ ...rec, visitId: 'PSY-1', start: '2099-01-01T08:00:00+07:00' }));
    expect(JSON.parse(ok.errors.lines[0] as string).visitId).toBe('PSY-1');
    const digits = await run(line({ ...rec, visitId: 'V-3273010508260001', start: '2099-01-01T08:00:00+07:00' }));
    expect(digits.errors.text).not.toContain('3273010508260001');
  });

  it('a non-JSON line → unusable, exit 2; processing continues', async () => {
    const { code, output, errors } = await run(`not json\n${line(clean[0]?.record)}\n[1]\n`);
    expect(code).toBe(2);
    expect(output.lines).toHaveLength(1);
    expect(errors.lines.map((l) => JSON.parse(l).line)).toEqual([1, 3]);
  });

  it('--verbose reports warnings and a summary on stderr', async () => {
    const { code, errors } = await run(clean.map((s) => line(s.record)).join('\n'), true);
    expect(code).toBe(0);
    const reports = errors.lines.map((l) => JSON.parse(l));
    expect(reports.at(-1)).toEqual({ summary: { records: clean.length, mapped: clean.length, invalid: 0, unusable: 0 } });
    // Samples without a known IHS number carry warnings about references sync will resolve.
    expect(reports.some((r) => r.status === 'warnings')).toBe(true);
  });

  it('streams: 1,000 records produce 1,000 lines', async () => {
    const rec = (clean[0] as Sample).record;
    const many = Array.from({ length: 1000 }, (_, i) => line({ ...rec, visitId: `V-${i}` })).join('\n');
    const { code, output } = await run(many);
    expect(code).toBe(0);
    expect(output.lines).toHaveLength(1000);
  });
});

describe('review findings, second round (issue 3): stderr reports identify their input line', () => {
  type Report = { line: number; item?: number; status: string; outcome: OperationOutcome };
  const reportsOf = (errors: Sink) => errors.lines.map((l) => JSON.parse(l) as Report);

  it('NDJSON: each report has line N (blank lines counted) and its outcome the id line-N, like validate', async () => {
    const bad: Record<string, unknown> = { ...(clean[0] as Sample).record, start: '2099-01-01T08:00:00+07:00' };
    const text = ['', line(clean[0]?.record), '', '  ', line(bad), 'not json', line(clean[1]?.record), '[1]'].join('\n');
    const { code, output, errors } = await run(text);
    expect(code).toBe(2);
    expect(output.lines).toHaveLength(2); // blank lines produce nothing on stdout either
    expect(reportsOf(errors).map((r) => [r.line, r.status, r.outcome.id])).toEqual([
      [5, 'invalid', 'line-5'],
      [6, 'unusable', 'line-6'],
      [8, 'unusable', 'line-8'],
    ]);
  });

  it('--verbose warnings carry the same id', async () => {
    const { errors } = await run(['', line(clean[0]?.record)].join('\n'), true);
    const warn = reportsOf(errors).find((r) => r.status === 'warnings');
    expect(warn).toMatchObject({ line: 2, outcome: { id: 'line-2' } });
  });

  it('a JSON array: reports carry item N and the id item-N', async () => {
    const bad = { ...(clean[0] as Sample).record, start: '2099-01-01T08:00:00+07:00' };
    const { code, errors } = await run(JSON.stringify([clean[0]?.record, bad, 7]));
    expect(code).toBe(2);
    expect(reportsOf(errors).map((r) => [r.line, r.item, r.status, r.outcome.id])).toEqual([
      [1, 2, 'invalid', 'item-2'],
      [1, 3, 'unusable', 'item-3'],
    ]);
  });

  it('the help explains the report shape and the line-N ids', async () => {
    const ctx = context('', { validator, mapper });
    expect(await runCli(['map', '--help'], ctx)).toBe(0);
    expect(ctx.out.text).toMatch(/line-N/);
    expect(ctx.out.text).toMatch(/blank lines/i);
  });
});

describe('ilp-adapter map (commander wiring)', () => {
  it("maps stdin with '-' and --verbose", async () => {
    const ctx = context(line(clean[0]?.record), { validator, mapper });
    expect(await runCli(['map', '-', '--verbose'], ctx)).toBe(0);
    expect(ctx.out.lines).toHaveLength(1);
    expect(ctx.err.text).toContain('"summary"');
  });

  it('--now moves the reference time: a visit after it is rejected', async () => {
    const ctx = context(line(clean[0]?.record), { validator, mapper });
    expect(await runCli(['map', '-', '--now', '2020-01-01T00:00:00Z'], ctx)).toBe(1);
  });
});

describe('ilp-adapter map: its own lines in --lang (default ILP_LANG, else Bahasa Indonesia)', () => {
  const first = (text: string) => JSON.parse(text.split('\n')[0]!) as { outcome: { issue: Array<{ diagnostics: string }> } };

  it('an unusable line and an empty input, in Indonesian and in English', async () => {
    const id = context('[1]\n', { validator, mapper });
    expect(await runCli(['map', '-', '--lang', 'id'], id)).toBe(2);
    expect(first(id.err.text).outcome.issue[0]!.diagnostics).toBe('butir 1: bukan catatan kunjungan (diharapkan objek JSON)');
    const en = context('[1]\n', { validator, mapper });
    expect(await runCli(['map', '-', '--lang', 'en'], en)).toBe(2);
    expect(first(en.err.text).outcome.issue[0]!.diagnostics).toBe('item 1: not a visit record (expected a JSON object)');
    const empty = context('', { validator, mapper });
    expect(await runCli(['map', '-', '--lang', 'id'], empty)).toBe(2);
    expect(empty.err.text).toBe('map: masukan kosong\n');
    const emptyEn = context('', { validator, mapper });
    expect(await runCli(['map', '-', '--lang', 'en'], emptyEn)).toBe(2);
    expect(emptyEn.err.text).toBe('map: the input is empty\n');
  });
});
