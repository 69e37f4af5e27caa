// Old-vs-new harness for the profile rule engine: runs the frozen reference interpreter (rule-engine-v1.ts) and
// src/validation/rule-engine.ts over the same resources (and deterministic mutants of them) and collects every
// difference in findings (rule, severity, code, message, location, order). Used by the self-contained test in
// tests/validation and by the conformance suite (official examples).
import { compileRules, type CompiledRules, type RuleContext, type RuleSet } from '../../../src/validation/rule-engine.js';
import { checkBundle } from '../../../src/validation/bundle-rules.js';

/** The fullUrl → resource type map the profile rules resolve references with (checkBundle gathers it in its pass). */
const entryTypes = (bundle: Record<string, unknown>): Map<string, string> => checkBundle(bundle, 'Bundle', []);
import type { Issue } from '../../../src/validation/outcome.js';
import { compileRules as compileReference } from './rule-engine-v1.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Engines { current: CompiledRules; reference: CompiledRules; set: RuleSet }
export const engines = (set: RuleSet): Engines => ({ current: compileRules(set), reference: compileReference(set), set });

export interface Tally { runs: number; findings: number; differences: string[] }
export const newTally = (): Tally => ({ runs: 0, findings: 0, differences: [] });

// Contexts that change outcomes: "now" before and after the data, with and without the sending organization.
const CONTEXTS: RuleContext[] = [
  { nowMs: Date.parse('2026-01-01T00:00:00Z') },
  { nowMs: Date.parse('2024-01-01T00:00:00Z'), organizationId: '10000004' },
];

/** Both layers of both engines over one resource at `base`; records a difference when the findings are not identical. */
export function compareOne(e: Engines, res: Json, base: string, tally: Tally, label: string, refTypes?: ReadonlyMap<string, string>): void {
  for (const ctx0 of CONTEXTS) {
    const ctx = refTypes ? { ...ctx0, refTypes } : ctx0;
    for (const layer of ['base', 'profile'] as const) {
      const want: Issue[] = [];
      const got: Issue[] = [];
      e.reference.run(res, base, ctx, want, layer);
      e.current.run(res, base, ctx, got, layer);
      tally.runs++;
      tally.findings += want.length;
      const a = JSON.stringify(want);
      const b = JSON.stringify(got);
      if (a !== b && tally.differences.length < 20) tally.differences.push(`${label} (${layer}, org ${ctx.organizationId ?? '-'}): reference ${a} vs current ${b}`);
    }
  }
}

/** A resource alone, or a Bundle with each entry at `Bundle.entry[i].resource` (urn:uuid references resolved as the validator does). */
export function compareResource(e: Engines, res: Json, tally: Tally, label: string): void {
  const type = String(res.resourceType);
  compareOne(e, res, type, tally, label);
  if (type === 'Bundle' && Array.isArray(res.entry)) {
    const refTypes = entryTypes(res);
    res.entry.forEach((entry, i) => {
      const r = isObj(entry) ? entry.resource : undefined;
      if (isObj(r) && typeof r.resourceType === 'string') compareOne(e, r, `Bundle.entry[${i}].resource`, tally, `${label} entry ${i}`, refTypes);
    });
  }
}

/** Values that break (or just pass) the check kinds: wrong types, empty things, bad and good codings, references, times, quantities. */
export const REPLACEMENTS: unknown[] = [
  null, '', 'x', 0, -1, 1.5, 3, true, {}, [], [{}], [null, { reference: 'Patient/P1' }],
  { reference: 'Patient/P02478375538' }, { reference: 'Organization/10000004' }, { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' },
  { reference: 'Practitioner?identifier=x' }, { reference: '#c1' }, { reference: 42 }, { display: 'no reference' },
  { system: 'http://loinc.org', code: '8302-2' }, { system: 'http://loinc.org', code: 'abc' }, { system: 'https://loinc.org', code: '8302-2' }, { code: 'x' },
  { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] }, { coding: [] }, { coding: [{ code: 'x' }], text: 't' },
  [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }, { coding: [{ system: 'http://example.org', code: 'y' }] }],
  { system: 'http://sys-ids.kemkes.go.id/encounter/10000004', value: 'V1' }, [{ system: 'http://sys-ids.kemkes.go.id/encounter/99999999', value: 'V1' }],
  { system: 'http://sys-ids.kemkes.go.id/patient/nik', value: '123' },
  '2021-01-01T00:00:00+00:00', '2026-10-05T10:00:00+07:00', '2099-01-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-01-01', '2024-05-05T01:02:03.456Z', 'not a date',
  { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mmHg' }, { value: 1, code: 'kg' }, { unit: 'kg', system: 'http://unitsofmeasure.org', code: 'k g' },
  'https://sys-ids.kemkes.go.id/x', 'http://fhir.kemkes.go.id/r4/StructureDefinition/x',
];

/** Deterministic mutants of `res`: every value (and every rule path of its type, created when absent) deleted or replaced. */
export function* mutants(res: Json, rulePaths: readonly string[]): Generator<[string, Json]> {
  // Existing values, anywhere in the resource.
  const spots: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => { spots.push([...at, i]); walk(x, [...at, i]); });
    else if (isObj(v)) for (const k of Object.keys(v)) if (k !== 'resourceType') { spots.push([...at, k]); walk(v[k], [...at, k]); }
  };
  walk(res, []);
  for (const spot of spots) {
    yield [`delete ${spot.join('.')}`, edit(res, spot, undefined)];
    const old = get(res, spot);
    if (typeof old === 'string') for (const s of stringVariants(old)) yield [`${spot.join('.')} = ${s}`, edit(res, spot, s)];
    for (const r of FEW) yield [`${spot.join('.')} = ${JSON.stringify(r)}`, edit(res, spot, r)];
  }
  // The paths the rules read, set even where the resource has nothing (choice types as their usual forms).
  for (const path of rulePaths) {
    const keys = path.split('.').flatMap((k) => (k.endsWith('[x]') ? [`${k.slice(0, -3)}DateTime`] : [k]));
    for (const r of REPLACEMENTS) yield [`set ${path} = ${JSON.stringify(r)}`, setPath(res, keys, r)];
  }
}

function stringVariants(s: string): string[] {
  const out = [s.replace('http://', 'https://'), s.replace('https://', 'http://'), s.replace('+00:00', '+07:00'), s.slice(0, 10), `${s}x`, s.toUpperCase()];
  return [...new Set(out)].filter((x) => x !== s);
}

function get(root: unknown, spot: (string | number)[]): unknown {
  let v = root;
  for (const k of spot) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function edit(res: Json, spot: (string | number)[], value: unknown): Json {
  const copy = structuredClone(res);
  const parent = get(copy, spot.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const last = spot[spot.length - 1];
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else (parent as Record<string | number, unknown>)[last] = structuredClone(value);
  return copy;
}

/** Sets `keys` below the resource; an array on the way gets the value under its first item (created when empty). */
function setPath(res: Json, keys: string[], value: unknown): Json {
  const copy = structuredClone(res);
  let cur: Json = copy;
  for (let i = 0; i < keys.length - 1; i++) {
    let next = cur[keys[i]];
    if (Array.isArray(next)) {
      if (!isObj(next[0])) next[0] = {};
      next = next[0];
    } else if (!isObj(next)) next = cur[keys[i]] = {};
    cur = next as Json;
  }
  cur[keys[keys.length - 1]] = structuredClone(value);
  return copy;
}

/** Every path the rules of `type` read (rule paths, condition paths, the other side of comparisons). */
export function rulePathsOf(set: RuleSet, type: string): string[] {
  const paths = new Set<string>();
  for (const r of set.rules) {
    if (r.resourceType !== type) continue;
    for (const p of r.paths ?? [r.path ?? '']) if (p) paths.add(p);
    for (const c of r.when ?? []) paths.add(c.path);
    if ('other' in r.check) paths.add(r.check.other);
  }
  return [...paths];
}

/** A few replacements for every existing value (the full list goes to the rule paths). */
export const FEW: unknown[] = [null, '', 42, {}, [], { reference: 'Organization/10000004' }, { coding: [{ code: 'x' }] }, '2099-01-01T00:00:00Z'];

/**
 * The resource and its mutants, each compared. A Bundle: each entry's mutants alone at their place in the Bundle (with the
 * Bundle's urn:uuid resolution), and the Bundle's own elements other than `entry`. A resource or entry whose skeleton is in
 * `seen` (same keys and value types as one mutated before) is compared as it is but not mutated again.
 */
export function compareWithMutants(e: Engines, res: Json, tally: Tally, label: string, seen = new Set<string>()): void {
  compareResource(e, res, tally, label);
  const type = String(res.resourceType);
  if (type !== 'Bundle' || !Array.isArray(res.entry)) {
    if (seen.has(skeleton(res))) return;
    seen.add(skeleton(res));
    for (const [how, m] of mutants(res, rulePathsOf(e.set, type))) compareOne(e, m, type, tally, `${label}: ${how}`);
    return;
  }
  const { entry, ...rest } = res;
  for (const [how, m] of mutants(rest, rulePathsOf(e.set, 'Bundle'))) compareOne(e, { ...m, entry }, type, tally, `${label}: ${how}`);
  const refTypes = entryTypes(res);
  entry.forEach((x, i) => {
    const r = isObj(x) ? x.resource : undefined;
    if (!isObj(r) || seen.has(skeleton(r))) return;
    seen.add(skeleton(r));
    for (const [how, m] of mutants(r, rulePathsOf(e.set, String(r.resourceType)))) compareOne(e, m, `Bundle.entry[${i}].resource`, tally, `${label} entry ${i}: ${how}`, refTypes);
  });
}

/** The resource with every string, number and boolean replaced by its type: resources of the same shape share it. */
const skeleton = (res: Json): string => JSON.stringify(res, (_k, v: unknown) => (v !== null && typeof v !== 'object' ? typeof v : v));
