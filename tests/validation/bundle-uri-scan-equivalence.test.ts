// checkBundle's walk of each entry also tells the profile rules which entries hold no value a URI-scheme rule could report
// (UriScan, RuleContext.uriSchemeClear), so they skip their own search there. These hold validate() of a Bundle to the previous
// composition, kept here as the oracle: checkBundle without a scan, then the profile rules of each entry without the flag (each part
// pinned to its own reference by bundle-rules-equivalence and rule-engine-equivalence). Same issues, order, locations and texts,
// over the mapped samples, the conformance Bundles (when present) and variants with wrong and right schemes deep in the entries.
import { checkBundle } from '../../src/validation/bundle-rules.js';
import { createValidator, loadRuleSet, MAX_ISSUES } from '../../src/validation/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import { compileRules, type RuleContext } from '../../src/validation/rule-engine.js';
import { mapVisit } from '../../src/mapping/index.js';
import { NOW, samples, tables } from '../mapping/helpers.js';
import { conformanceBundles } from './conformance-bundles.js';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const set = loadRuleSet();
const rules = compileRules(set);
const validator = createValidator({ rules: set });
const ORG = '10000004';

/** The previous Bundle part of validate(): layer 3, then layer 2 of each entry, every entry's URI schemes searched by the rules. */
function previousBundleLayers(b: Rec, organizationId?: string): Issue[] {
  const out: Issue[] = [];
  const ctx: RuleContext = { nowMs: NOW.getTime(), organizationId };
  ctx.refTypes = checkBundle(b, 'Bundle', out);
  const entries = Array.isArray(b.entry) ? b.entry : [];
  for (let i = 0; i < entries.length; i++) {
    const r = isObj(entries[i]) ? (entries[i] as Rec).resource : undefined;
    if (isObj(r) && typeof r.resourceType === 'string' && r.resourceType !== 'Bundle' && validator.resourceTypes.includes(r.resourceType)) {
      rules.run(r, `Bundle.entry[${i}].resource`, ctx, out, 'profile');
    }
  }
  return out;
}

/** The same with a scan by `prefix`, as validate() now does it (for the planted-difference check). */
function scannedBundleLayers(b: Rec, prefix: RegExp, organizationId?: string): Issue[] {
  const out: Issue[] = [];
  const ctx: RuleContext = { nowMs: NOW.getTime(), organizationId };
  const uriScan = { prefix, clear: [] as boolean[] };
  ctx.refTypes = checkBundle(b, 'Bundle', out, uriScan);
  const entries = Array.isArray(b.entry) ? b.entry : [];
  for (let i = 0; i < entries.length; i++) {
    const r = isObj(entries[i]) ? (entries[i] as Rec).resource : undefined;
    if (isObj(r) && typeof r.resourceType === 'string' && r.resourceType !== 'Bundle' && validator.resourceTypes.includes(r.resourceType)) {
      ctx.uriSchemeClear = uriScan.clear[i] === true;
      rules.run(r, `Bundle.entry[${i}].resource`, ctx, out, 'profile');
    }
  }
  return out;
}

const mapped: Rec[] = samples.map((s) => mapVisit(s.record, tables, { now: NOW }).bundle as unknown as Rec).filter(Boolean);

/** Every wrong prefix of the rule data, one right one, and near misses (case, other keys, not a string). */
const WRONG = set.rules.flatMap((r) => (r.check.kind === 'uriScheme' ? r.check.fixes.map((f) => f.wrong) : []));
const deepIn = (leaf: Rec, depth: number): Rec => {
  let v: Rec = leaf;
  for (let d = 0; d < depth; d++) v = d % 2 ? { x: v } : ({ y: [v, { system: 'http://loinc.org' }] } as Rec);
  return v;
};

/** Variants of a Bundle, each putting URI values (and unresolved references) somewhere in entry `i`'s resource. */
function variants(b: Rec): Rec[] {
  const entries = Array.isArray(b.entry) ? b.entry : [];
  const n = Math.max(1, entries.length);
  const out: Rec[] = [];
  /** A copy of `b` changed by `f`, given entry `i`'s resource and a way to reach the others' (a resource made where there is none). */
  const edit = (i: number, f: (res: Rec, resOf: (j: number) => Rec, copy: Rec) => void) => {
    const c = structuredClone(b);
    const es = (Array.isArray(c.entry) ? c.entry : []) as Rec[];
    const resOf = (j: number): Rec => {
      const e = es[j % n] ?? {};
      return isObj(e.resource) ? e.resource : (e.resource = { resourceType: 'Basic' });
    };
    f(resOf(i), resOf, c);
    out.push(c);
  };
  for (let i = 0; i < Math.min(entries.length, 3); i++) {
    WRONG.forEach((w, j) => {
      edit(i, (r) => (r.code = { coding: [{ code: 'x' }, { system: `${w}x${j}`, code: 'y' }] }));
      edit(i, (r) => (r.extension = [{ url: `${w}StructureDefinition/e`, valueString: 'a' }]));
      edit(i, (r) => (r.contained = [{ resourceType: 'Patient', identifier: [{ system: w, value: '1' }] }]));
      edit(i, (r) => (r.note = [[{ z: [[{ url: w }]] }]]));
      edit(i, (r) => (r.contained = [deepIn({ system: w }, 150)]));
      edit(i, (r) => ((r.subject = { reference: 'urn:uuid:00000000-0000-0000-0000-000000000000' }), (r.meta = { source: w, profile: [w] })));
    });
    edit(i, (r) => ((r.code = { coding: [{ system: 'http://loinc.org', code: '1' }] }), (r.extension = [{ url: 'https://fhir.kemkes.go.id/r4/x' }])));
    edit(i, (r) => (r.note = [{ value: WRONG[0], text: WRONG[1] ?? WRONG[0], system: 7, url: null }, { system: String(WRONG[0]).toUpperCase() }]));
    edit(i, (r) => (r.subject = { reference: 'urn:uuid:missing' }));
    edit(i, (r) => ((r.subject = { reference: 'urn:uuid:missing' }), (r.extension = [{ url: WRONG[0] }])));
    edit(i, (r) => ((r.subject = { reference: 'urn:uuid:missing' }), (r.contained = [deepIn({ reference: 'urn:uuid:deep' }, 150)])));
    edit(i, (r, resOf) => ((resOf(i + 1).extension = [{ url: WRONG[0] }]), (r.focus = [{ reference: 'urn:uuid:nowhere' }])));
    edit(i, (r) => (r.contained = [deepIn({ system: 'http://loinc.org' }, 150)]));
  }
  edit(0, (_, resOf) => {
    for (let i = 0; i < entries.length; i++) resOf(i).extension = [{ url: WRONG[i % WRONG.length] }];
  });
  edit(0, (_, __, c) => (c.entry = [null, 3, { resource: [] }, { resource: { resourceType: 'Bundle', meta: { source: WRONG[0] } } }, ...entries]));
  return out;
}

/** validate() of `b` against the structure layer's issues (baseOnly) followed by the previous Bundle layers, capped as validate() caps. */
function compare(b: Rec): number {
  let findings = 0;
  for (const organizationId of [undefined, ORG]) {
    const opts = { now: NOW, organizationId };
    const layers = previousBundleLayers(b, organizationId);
    const want = [...validator.validate(b, { ...opts, baseOnly: true }), ...layers];
    const got = validator.validate(b, opts);
    if (want.length <= MAX_ISSUES) expect(got).toEqual(want);
    else expect(got.slice(0, MAX_ISSUES)).toEqual(want.slice(0, MAX_ISSUES));
    expect(scannedBundleLayers(b, rules.uriSchemePrefix as RegExp, organizationId)).toEqual(layers);
    findings += layers.filter((x) => x.ruleId === 'system-uri-scheme').length;
  }
  return findings;
}

describe('validate() of a Bundle with the URI-scheme scan equals the previous composition', () => {
  it('has wrong prefixes to plant', () => {
    expect(WRONG.length).toBeGreaterThan(3);
    expect(rules.uriSchemePrefix?.test(`${WRONG[0]}x`)).toBe(true);
    expect(rules.uriSchemePrefix?.test('http://loinc.org')).toBe(false);
  });

  it('on the mapped samples and their variants', () => {
    expect(mapped.length).toBeGreaterThan(5);
    let findings = 0;
    for (const b of mapped) {
      compare(b);
      for (const v of variants(b)) findings += compare(v);
    }
    expect(findings).toBeGreaterThan(1_000); // the variants do break the rule
  });

  it('on the conformance Bundles (when the corpus is present) and their variants', () => {
    for (const b of conformanceBundles().slice(0, 40)) {
      compare(b);
      for (const v of variants(b)) compare(v);
    }
  });

  it('a scan that misses one wrong prefix is caught (the comparison has teeth)', () => {
    const missing = new RegExp(`^(?:${WRONG.slice(1).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
    let differed = 0;
    for (const v of variants(mapped[0])) {
      if (JSON.stringify(scannedBundleLayers(v, missing)) !== JSON.stringify(previousBundleLayers(v))) differed++;
    }
    expect(differed).toBeGreaterThan(0);
  });

  it('a single resource (not a Bundle) still gets its URI-scheme findings', () => {
    const obs = structuredClone((mapped[0].entry as Rec[]).map((e) => e.resource as Rec).find((r) => r.resourceType === 'Observation') as Rec);
    obs.extension = [{ url: WRONG[0] }];
    const found = validator.validate(obs, { now: NOW }).filter((x) => x.ruleId === 'system-uri-scheme');
    expect(found.map((x) => x.expression)).toEqual([['Observation.extension[0].url']]);
  });
});
