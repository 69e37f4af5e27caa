// The binding checker leaves out every element whose subtree holds no required binding (a speed-up): pinned here against a
// plain walk of the whole generated type graph, over the mapped samples with each string and each code set to a wrong value in turn.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mapVisit } from '../../src/mapping/index.js';
import { createMappingKit } from '../../src/compose.js';
import { mappingsDir } from '../../src/util/paths.js';
import { issue, type Issue } from '../../src/validation/outcome.js';
import { createBindingChecker, loadRequiredBindings, type RequiredBindingsData } from '../../src/validation/required-bindings.js';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every element of every type walked, no pruning: what the checker must say. Same message wording as the checker. */
function plainWalk(data: RequiredBindingsData, resource: Rec, base: string): Issue[] {
  const out: Issue[] = [];
  const say = (url: string, at: string, what: string) => {
    const names = Object.keys(data.valueSets[url] ?? {});
    const listed = names.slice(0, 12).join(', ') + (names.length > 12 ? ', ...' : '');
    out.push(issue('error', 'code-invalid', `${what} not in the value set ${url.slice(url.lastIndexOf('/') + 1)} that FHIR R4 binds here as required: must be one of ${listed}`, at));
  };
  const inSet = (url: string, c: unknown) =>
    isObj(c) && typeof c.code === 'string' && typeof c.system === 'string' && Object.hasOwn(data.valueSets[url] ?? {}, c.code) && (data.valueSets[url]?.[c.code] ?? []).includes(c.system);
  const visit = (x: unknown, type: string, url: string | undefined, at: string, depth: number) => {
    if (url && data.valueSets[url]) {
      if (type === 'code' && typeof x === 'string' && !Object.hasOwn(data.valueSets[url], x)) say(url, at, 'Code');
      if (type === 'Coding' && isObj(x) && !inSet(url, x)) say(url, at, 'Coding');
      if (type === 'CodeableConcept' && isObj(x) && !(Array.isArray(x.coding) && x.coding.some((c) => inSet(url, c)))) say(url, at, 'No coding');
    }
    if (data.types[type] && isObj(x)) walk(x, type, at, depth + 1);
  };
  const walk = (v: Rec, type: string, at: string, depth: number) => {
    if (depth > 64) return;
    const elements = data.types[type] ?? {};
    for (const key in v) {
      const el = Object.hasOwn(elements, key) ? elements[key] : undefined;
      if (!el) continue;
      const x = v[key];
      if (Array.isArray(x)) x.forEach((item, i) => visit(item, el.type, el.valueSet, `${at}.${key}[${i}]`, depth));
      else visit(x, el.type, el.valueSet, `${at}.${key}`, depth);
    }
  };
  if (typeof resource.resourceType === 'string' && data.types[resource.resourceType]) walk(resource, resource.resourceType, base, 0);
  return out;
}

/** Each string leaf of `r` replaced by a value no value set holds, one at a time (and the untouched resource first). */
function* mutations(r: Rec): Generator<Rec> {
  yield r;
  const leaves: Array<Array<string | number>> = [];
  const collect = (v: unknown, at: Array<string | number>) => {
    if (typeof v === 'string') leaves.push(at);
    else if (Array.isArray(v)) v.forEach((x, i) => collect(x, [...at, i]));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) collect(x, [...at, k]);
  };
  collect(r, []);
  for (const at of leaves) {
    const copy = structuredClone(r);
    let cur: Rec = copy;
    for (const seg of at.slice(0, -1)) cur = cur[seg as string] as Rec;
    cur[at[at.length - 1] as string] = 'not-a-bound-code';
    yield copy;
  }
}

test('the pruned checker reports exactly what a walk of the whole type graph reports', () => {
  const data = loadRequiredBindings();
  const check = createBindingChecker(data);
  const { tables } = createMappingKit();
  const dir = path.join(mappingsDir, 'samples');
  let compared = 0;
  let reported = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.visit.json')).sort()) {
    const m = mapVisit(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Rec, tables, { now: new Date('2026-12-01T00:00:00Z') });
    for (const [i, e] of (m.bundle?.entry ?? []).entries()) {
      for (const r of mutations(e.resource as unknown as Rec)) {
        const got: Issue[] = [];
        check(r, `Bundle.entry[${i}].resource`, got);
        expect(got).toEqual(plainWalk(data, r, `Bundle.entry[${i}].resource`));
        compared++;
        reported += got.length;
      }
    }
  }
  expect(compared).toBeGreaterThan(500);
  expect(reported).toBeGreaterThan(20); // the mutations do hit bound elements
});
