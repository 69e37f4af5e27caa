// The structure layer's fast path (generated/r4/fast-checks.cjs) against its oracle, Ajv + the required-bindings walk, over the
// mapper's output for every sample visit, the sample Bundles and the fixtures, and mutants of each: same answer, same issues.
// The official examples are compared in tests/conformance/fast-checks-equivalence.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMappingKit } from '../../src/compose.js';
import { mapVisit } from '../../src/mapping/index.js';
import { mappingsDir, packageRoot } from '../../src/util/paths.js';
import { createValidator } from '../../src/validation/index.js';
import { compiledSchemaAndTypes } from '../helpers/r4-schema.js';
import type { FastChecks } from '../../src/validation/r4-structure.js';
import { compareWithMutants, fastEngines, newFastTally, type FastEngines } from './reference/fast-checks-equivalence.js';
import * as F from './fixtures.js';

type Json = Record<string, unknown>;
const NOW = new Date('2026-12-01T00:00:00Z');
const e = fastEngines();
const sampleDir = path.join(mappingsDir, 'samples');
const files = readdirSync(sampleDir).sort();
const { tables } = createMappingKit();
const mapped = files.filter((f) => f.endsWith('.visit.json')).map((f) => [f, mapVisit(JSON.parse(readFileSync(path.join(sampleDir, f), 'utf8')) as Json, tables, { now: NOW })] as const);

/** Fast checks generated from a changed schema or bindings data (a planted difference), loaded as the module loader does. */
async function plantedFastChecks(change: (schema: { definitions: Record<string, Json> }, bindings: { valueSets: Record<string, Record<string, string[]>> }) => void): Promise<FastChecks> {
  const { generateFastChecks } = (await import(pathToFileURL(path.join(packageRoot, 'scripts', 'r4-fast-checks.mjs')).href)) as {
    generateFastChecks: (schema: unknown, types: string[], bindings: unknown) => string;
  };
  const { schema, resourceTypes } = await compiledSchemaAndTypes();
  const bindings = structuredClone(e.bindings) as unknown as { valueSets: Record<string, Record<string, string[]>> };
  change(schema, bindings);
  const mod = { exports: {} as { bindingsHash: string; createFastChecks: () => FastChecks['checks'] } };
  // The generator's own output (from the project's schema), evaluated as its CommonJS module would be.
  new Function('exports', 'module', generateFastChecks(schema, resourceTypes, bindings))(mod.exports, mod);
  return { bindingsHash: mod.exports.bindingsHash, checks: mod.exports.createFastChecks() };
}

function compareSamples(engines: FastEngines, perSpot: number, visits = mapped.length) {
  const tally = newFastTally();
  for (const [f, m] of mapped.slice(0, visits)) {
    if (m.bundle) compareWithMutants(engines, m.bundle as unknown as Json, tally, f, perSpot);
    if (m.patient) compareWithMutants(engines, m.patient as unknown as Json, tally, `${f} patient`, perSpot);
  }
  return tally;
}

describe('structure fast path = Ajv + required-bindings walk', () => {
  test('the mapper output of every sample visit, and its mutants', () => {
    const tally = compareSamples(e, 4);
    console.log(`samples: ${tally.resources} resources compared (${tally.valid} valid, ${tally.invalid} not), identical`);
    expect(tally.differences).toEqual([]);
    // Both answers are exercised many times over.
    expect(tally.valid).toBeGreaterThan(1_000);
    expect(tally.invalid).toBeGreaterThan(10_000);
  });

  test('the sample Bundles and the fixtures, and their mutants', () => {
    const tally = newFastTally();
    for (const f of files.filter((x) => x.endsWith('.bundle.json'))) compareWithMutants(e, JSON.parse(readFileSync(path.join(sampleDir, f), 'utf8')) as Json, tally, f, 1);
    for (const [name, make] of Object.entries(F)) {
      if (typeof make !== 'function' || make.length > 0) continue;
      const r = (make as () => unknown)();
      if (r && typeof r === 'object' && typeof (r as Json).resourceType === 'string') compareWithMutants(e, r as Json, tally, `fixture ${name}`);
    }
    expect(tally.differences).toEqual([]);
    expect(tally.valid).toBeGreaterThan(100);
  });

  test('a planted difference is found: a pattern the fast path no longer tests (widened)', async () => {
    const planted = await plantedFastChecks((schema) => {
      delete (schema.definitions.code as Json).pattern;
    });
    const tally = compareSamples(fastEngines(planted), 1, 3);
    expect(tally.differences.some((d) => /oracle false, fast true/.test(d))).toBe(true);
  });

  test('a planted difference is found: a code the fast path no longer allows (narrowed)', async () => {
    const planted = await plantedFastChecks((_schema, bindings) => {
      const set = Object.keys(bindings.valueSets).find((url) => url.endsWith('/immunization-status'));
      if (set) delete bindings.valueSets[set].completed;
    });
    const tally = compareSamples(fastEngines(planted), 1, 3);
    expect(tally.differences.some((d) => /oracle true, fast false/.test(d))).toBe(true);
  });

  test('the validator uses the fast path only with the generated bindings data', () => {
    // Caller-supplied bindings data: no fast path, so a narrower code set than the generated one still reports.
    const data = structuredClone(e.bindings);
    const url = Object.keys(data.valueSets).find((u) => u.endsWith('/immunization-status')) as string;
    delete data.valueSets[url].completed;
    const imm = F.immunization();
    imm.status = 'completed';
    const custom = createValidator({ requiredBindings: data }).validate(imm, { now: NOW, baseOnly: true });
    expect(custom.filter((i) => i.expression?.[0] === 'Immunization.status').map((i) => i.code)).toEqual(['code-invalid']);
    expect(createValidator().validate(imm, { now: NOW, baseOnly: true }).filter((i) => i.expression?.[0] === 'Immunization.status')).toEqual([]);
  });
});

describe('the fast path\'s pattern rewrites are the schema patterns', () => {
  /** Strings where a rewrite and its pattern could part: every UTF-16 code unit (lone surrogates too) alone, between letters and
   *  repeated, the empty string, astral code points and surrogate pairs in both orders. */
  function probes(): string[] {
    const out = ['', '😀', 'a😀b', '\uD83D', '\uDE00\uD83D', 'http://loinc.org', 'urn:uuid:0f2c4e1a-8b3d-4c5e-9f60-112233445566'];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      out.push(ch, `a${ch}b`, `${ch}${ch}`, `${ch}x`, `x${ch}`);
    }
    return out;
  }
  /** The probes where `!absent.test(s)` and the pattern answer differently (empty: an exact rewrite). */
  const partings = (pattern: string, absent: string, strings: string[]) => {
    const re = new RegExp(pattern, 'u');
    const no = new RegExp(absent, 'u');
    return strings.filter((s) => re.test(s) !== !no.test(s));
  };
  const strings = probes();

  test('each rewrite answers as its pattern (Ajv compiles it with "u") on every probe', async () => {
    const { PATTERN_REWRITES } = (await import(pathToFileURL(path.join(packageRoot, 'scripts', 'r4-fast-checks.mjs')).href)) as {
      PATTERN_REWRITES: Record<string, { absent: string }>;
    };
    expect(Object.keys(PATTERN_REWRITES)).toEqual(['^\\S*$']);
    for (const [pattern, { absent }] of Object.entries(PATTERN_REWRITES)) expect(partings(pattern, absent, strings)).toEqual([]);
  });

  test('a planted difference is found: "no whitespace" read as ASCII whitespace only', () => {
    expect(partings('^\\S*$', '[ \\t\\n\\r\\f\\v]', strings)).toContain('\u00a0');
  });
});
