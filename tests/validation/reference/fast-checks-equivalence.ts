// Old-vs-new harness for the structure layer's fast path (generated/r4/fast-checks.cjs, scripts/r4-fast-checks.mjs). The oracle is
// the path the validator took before it, unchanged in src: the Ajv validator of the type, then the required-bindings walk.
// Two comparisons per resource (and per mutant of it):
//  - the contract, both ways: fast(x) === (Ajv accepts x && the bindings walk reports nothing);
//  - the outcome: R4Structure with and without the fast path gives identical issues (order, text, location; nested too).
import { createBindingChecker, loadRequiredBindings, type RequiredBindingsData } from '../../../src/validation/required-bindings.js';
import { loadR4Module, R4Structure, type FastChecks, type R4Module } from '../../../src/validation/r4-structure.js';
import type { Issue } from '../../../src/validation/outcome.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface FastEngines {
  mod: R4Module;
  fast: FastChecks;
  bindings: RequiredBindingsData;
  checkBindings: ReturnType<typeof createBindingChecker>;
  withFast: R4Structure;
  withoutFast: R4Structure;
}

/** The engines over the generated module; `fast` replaces its fast path (a planted difference, in the tests). */
export function fastEngines(fast?: FastChecks): FastEngines {
  const loaded = loadR4Module();
  const bindings = loadRequiredBindings();
  const checkBindings = createBindingChecker(bindings);
  const mod: R4Module = { ...loaded, fast: fast ?? loaded.fast };
  const withFast = new R4Structure(mod, undefined, { check: checkBindings, inputHash: mod.fast?.bindingsHash });
  const withoutFast = new R4Structure({ ...mod, fast: undefined }, undefined, { check: checkBindings, inputHash: undefined });
  return { mod, fast: mod.fast as FastChecks, bindings, checkBindings, withFast, withoutFast };
}

export interface FastTally {
  resources: number;
  valid: number;
  invalid: number;
  differences: string[];
}
export const newFastTally = (): FastTally => ({ resources: 0, valid: 0, invalid: 0, differences: [] });

/** The oracle's answer for one resource alone (nested resources are separate calls). */
function oracle(e: FastEngines, res: Json, type: string): boolean {
  const fn = e.mod.fns[type];
  if (!fn(res)) return false;
  const out: Issue[] = [];
  e.checkBindings(res, type, out);
  return out.length === 0;
}

/** Every resource inside `res` (itself, Bundle entries, contained, Parameters, outcomes) with a known type. */
function* resourcesIn(res: Json): Generator<Json> {
  if (typeof res.resourceType === 'string') yield res;
  const nested = [...(Array.isArray(res.contained) ? res.contained : [])];
  if (Array.isArray(res.entry)) for (const en of res.entry) if (isObj(en)) nested.push(en.resource, isObj(en.response) ? en.response.outcome : undefined);
  for (const n of nested) if (isObj(n)) yield* resourcesIn(n);
}

/** scripts/r4-fast-checks.mjs MAX_DEPTH: objects nested deeper answer false. */
const FAST_MAX_DEPTH = 64;
/** Objects on the deepest path from `v` (the resource itself counts 1). */
function objectDepth(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((m: number, x) => Math.max(m, objectDepth(x)), 0);
  if (!isObj(v)) return 0;
  let m = 0;
  for (const k in v) m = Math.max(m, objectDepth(v[k]));
  return m + 1;
}

export function compareOne(e: FastEngines, res: Json, tally: FastTally, label: string): void {
  for (const r of resourcesIn(res)) {
    const type = r.resourceType as string;
    const check = e.fast.checks[type];
    if (!check || !e.mod.fns[type]) continue;
    let want: boolean | 'throws';
    let got: boolean | 'throws';
    try {
      want = oracle(e, r, type);
    } catch {
      want = 'throws';
    }
    try {
      got = check(r);
    } catch {
      got = 'throws';
    }
    tally.resources++;
    if (want === true) tally.valid++;
    else tally.invalid++;
    // Where the fast path does not decide (objects nested deeper than it goes, a stack overflow in Ajv) it must say false, and the
    // oracle then answers as before.
    const undecided = (want === 'throws' || objectDepth(r) > FAST_MAX_DEPTH) && got === false;
    if (want !== got && !undecided && tally.differences.length < 20) tally.differences.push(`${label} (${type}): oracle ${want}, fast ${got}`);
  }
  const a: Issue[] = [];
  const b: Issue[] = [];
  const type = String(res.resourceType);
  if (e.withFast.has(type)) {
    e.withoutFast.validate(res, type, a);
    e.withFast.validate(res, type, b);
    const sa = JSON.stringify(a);
    const sb = JSON.stringify(b);
    if (sa !== sb && tally.differences.length < 20) tally.differences.push(`${label}: issues without the fast path ${sa} vs with it ${sb}`);
  }
}

/** Values that break (or just pass) structure checks: wrong JSON types, empty and blank strings, Unicode whitespace, arrays for scalars. */
const REPLACEMENTS: unknown[] = [
  null, '', ' ', 'x', ' x', 'x ', 'a  b', 'a b', '\t', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\ufeffb', 'a\u000bb', 'a\nb', 'a\u180eb', '\ud83d\ude00', '\ud800',
  0, -1, 1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY, true, 'true', {}, [], [null], [{}], [[]], { extension: [] }, { url: 'http://x' },
  '2024-01-01', '2024-13-01', '2024-02-30T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01T10:00:00+14:00', '2024-01-01T10:00:00+14:01', '0000', '2024-01-01T10:00Z',
  'urn:uuid:00000000-0000-4000-8000-000000000000', 'urn:uuid:0000', 'Patient/P1', 'completed', 'given', 'not-done',
  { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }, { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  { coding: [{ system: 'http://example.org', code: 'active' }] }, { coding: [{ code: 'active' }], text: 't' },
];

function get(root: unknown, spot: (string | number)[]): unknown {
  let v = root;
  for (const k of spot) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function edited(res: Json, spot: (string | number)[], change: (parent: Record<string | number, unknown> | unknown[], last: string | number) => void): Json {
  const copy = structuredClone(res);
  change(get(copy, spot.slice(0, -1)) as Record<string | number, unknown>, spot[spot.length - 1]);
  return copy;
}

/** Deterministic mutants of `res`: each value deleted, set to undefined, wrapped in an array or unwrapped, and replaced by `perSpot`
 *  of the replacements (a different slice at each spot, so every replacement is used across a resource); each object given an
 *  unknown key, an own `__proto__` key and a primitive extension; the resource given extension chains 30 and 70 deep. A Bundle's
 *  entry resources are left to their own mutants (compareWithMutants). */
export function* structureMutants(res: Json, perSpot: number): Generator<[string, Json]> {
  const spots: (string | number)[][] = [];
  const objects: (string | number)[][] = [[]];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => { spots.push([...at, i]); walk(x, [...at, i]); });
    else if (isObj(v)) {
      if (at.length) objects.push(at);
      for (const k of Object.keys(v)) {
        if (at.length === 0 && k === 'resourceType') continue;
        spots.push([...at, k]);
        if (!(at.length === 2 && at[0] === 'entry' && k === 'resource')) walk(v[k], [...at, k]);
      }
    }
  };
  walk(res, []);
  const set = (p: Record<string | number, unknown> | unknown[], k: string | number, value: unknown) => {
    (p as Record<string | number, unknown>)[k] = value;
  };
  let n = 0;
  for (const spot of spots) {
    const at = spot.join('.');
    yield [`delete ${at}`, edited(res, spot, (p, k) => (Array.isArray(p) ? p.splice(k as number, 1) : delete p[k]))];
    yield [`undefined ${at}`, edited(res, spot, (p, k) => set(p, k, undefined))];
    const old = get(res, spot);
    yield [`wrap ${at}`, edited(res, spot, (p, k) => set(p, k, [structuredClone(old)]))];
    if (Array.isArray(old) && old.length) yield [`unwrap ${at}`, edited(res, spot, (p, k) => set(p, k, structuredClone(old[0])))];
    for (let j = 0; j < Math.min(perSpot, REPLACEMENTS.length); j++) {
      const r = REPLACEMENTS[(n++ * 7) % REPLACEMENTS.length];
      yield [`${at} = ${String(JSON.stringify(r))}`, edited(res, spot, (p, k) => set(p, k, structuredClone(r)))];
    }
  }
  for (const o of objects) {
    const at = o.join('.') || '(root)';
    const target = (copy: Json) => (o.length ? get(copy, o) : copy) as Json;
    const withKey = (key: string, value: unknown) => {
      const copy = structuredClone(res);
      target(copy)[key] = value;
      return copy;
    };
    yield [`${at} + unknownElement`, withKey('unknownElement', 'x')];
    yield [`${at} + _id`, withKey('_id', { extension: [{ url: 'http://x', valueString: 'y' }] })];
    // An own `__proto__` key, as JSON.parse makes one.
    const copy = structuredClone(res);
    Object.defineProperty(target(copy), '__proto__', { value: { a: 1 }, enumerable: true, writable: true, configurable: true });
    yield [`${at} + __proto__`, copy];
  }
  // Deeper than the fast path goes (64): Ajv decides.
  for (const depth of [30, 70]) {
    let ext: Json = { url: 'http://x', valueString: 'leaf' };
    for (let i = 0; i < depth; i++) ext = { url: 'http://x', extension: [ext] };
    yield [`extension chain ${depth}`, { ...structuredClone(res), extension: [ext] }];
  }
}

/** The resource and its mutants, each compared; a Bundle's entry resources with their own mutants too. */
export function compareWithMutants(e: FastEngines, res: Json, tally: FastTally, label: string, perSpot = 6): void {
  compareOne(e, res, tally, label);
  for (const [what, m] of structureMutants(res, perSpot)) compareOne(e, m, tally, `${label}: ${what}`);
  if (Array.isArray(res.entry)) {
    res.entry.forEach((en, i) => {
      const r = isObj(en) ? en.resource : undefined;
      if (isObj(r)) for (const [what, m] of structureMutants(r, perSpot)) compareOne(e, m, tally, `${label} entry ${i}: ${what}`);
    });
  }
}
