// checkBundle was rewritten for speed (one pass over the entries, entryTypes gathered in it, a reference search without callbacks).
// These hold it to the previous implementation, kept here verbatim as the reference: same issues in the same order with the same
// locations and texts, and the same fullUrl → resourceType map, over the mapped samples, the conformance Bundles (when the corpus
// is present) and many broken variants of each.
import { checkBundle } from '../../src/validation/bundle-rules.js';
import { issue, type Issue } from '../../src/validation/outcome.js';
import { walkStrings } from '../../src/validation/rule-engine.js';
import { mapVisit } from '../../src/mapping/index.js';
import { NOW, samples, tables } from '../mapping/helpers.js';
import { conformanceBundles } from './conformance-bundles.js';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const REF_KEYS = new Set(['reference']);
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The previous entryTypes. */
function referenceEntryTypes(bundle: Rec): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(bundle.entry)) return map;
  for (const e of bundle.entry) {
    if (isObj(e) && typeof e.fullUrl === 'string' && isObj(e.resource) && typeof e.resource.resourceType === 'string') {
      if (!map.has(e.fullUrl)) map.set(e.fullUrl, e.resource.resourceType);
    }
  }
  return map;
}

/** The previous checkBundle (its UUID check as the pattern it was pinned to). */
function referenceCheckBundle(bundle: Rec, base: string, out: Issue[]): void {
  if (bundle.type !== undefined && bundle.type !== 'transaction' && bundle.type !== 'batch') {
    out.push(issue('error', 'value', `Bundle.type must be 'transaction' (or 'batch') to be posted to SATUSEHAT`, `${base}.type`));
  }
  if (!Array.isArray(bundle.entry)) return;
  const seen = new Map<string, number>();
  const fullUrls = new Set<string>();
  bundle.entry.forEach((e: unknown, i: number) => {
    const at = `${base}.entry[${i}]`;
    if (!isObj(e)) return;
    const res = isObj(e.resource) ? e.resource : undefined;
    const type = typeof res?.resourceType === 'string' ? res.resourceType : 'resource';
    const fu = e.fullUrl;
    if (typeof fu !== 'string' || fu === '') {
      out.push(issue('error', 'required', `Invalid resource ${type}: missing fullUrl`, `${at}.fullUrl`, '20021'));
    } else {
      fullUrls.add(fu);
      if (!fu.startsWith('urn:uuid')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: it must begin with 'urn:uuid'`, `${at}.fullUrl`, '20018'));
      } else if (!fu.startsWith('urn:uuid:')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl format: it must be 'urn:uuid:{uuid}'`, `${at}.fullUrl`, '20017'));
      } else if (!UUID_RE.test(fu.slice(9))) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: invalid UUID format`, `${at}.fullUrl`, '20019'));
      }
      const first = seen.get(fu);
      if (first !== undefined) out.push(issue('error', 'duplicate', `Invalid ${type}.fullUrl: duplicate of entry[${first}]`, `${at}.fullUrl`, '20020'));
      else seen.set(fu, i);
    }
    if (res?.resourceType === 'Bundle') out.push(issue('error', 'structure', 'A Bundle must not contain another Bundle', `${at}.resource`, '20011'));
    if (!res) out.push(issue('error', 'required', 'Bundle entry has no resource', `${at}.resource`));
    const req = e.request;
    if (!isObj(req)) {
      out.push(issue('error', 'required', 'Bundle entry needs request {method, url} in a transaction', `${at}.request`));
    } else {
      if (typeof req.method !== 'string') out.push(issue('error', 'required', 'Bundle entry request needs a method', `${at}.request.method`));
      if (typeof req.url !== 'string' || req.url === '') out.push(issue('error', 'required', 'Bundle entry request needs a url', `${at}.request.url`));
      else if (req.method === 'POST' && res && typeof res.resourceType === 'string' && req.url.split(/[/?]/)[0] !== res.resourceType) {
        out.push(issue('error', 'value', `POST request url must be the resource type '${res.resourceType}'`, `${at}.request.url`));
      }
    }
  });
  const unresolved = (ref: string) => ref.startsWith('urn:uuid:') && !fullUrls.has(ref);
  bundle.entry.forEach((e: unknown, i: number) => {
    if (!isObj(e) || !isObj(e.resource)) return;
    walkStrings(e.resource, `${base}.entry[${i}].resource`, REF_KEYS, unresolved, (_ref, at) => {
      out.push(issue('error', 'not-found', 'Reference does not resolve to any entry fullUrl in this Bundle', at));
    });
  });
}

const mapped: Rec[] = samples.map((s) => mapVisit(s.record, tables, { now: NOW }).bundle as unknown as Rec).filter(Boolean);

/** Broken variants of a Bundle, each touching one thing (entry `i` taken modulo the entry count). */
function variants(b: Rec): Rec[] {
  const entries = Array.isArray(b.entry) ? b.entry : [];
  const n = entries.length;
  const out: Rec[] = [];
  const edit = (f: (c: Rec, entry: (i: number) => Rec) => void) => {
    const c = structuredClone(b);
    const es = (Array.isArray(c.entry) ? c.entry : []) as Rec[];
    f(c, (i) => es[((i % Math.max(1, n)) + Math.max(1, n)) % Math.max(1, n)] ?? {});
    out.push(c);
  };
  const ref = (e: Rec) => (isObj(e.resource) ? e.resource : (e.resource = {}));
  for (let i = 0; i < Math.min(n, 4); i++) {
    edit((_, e) => delete e(i).fullUrl);
    edit((_, e) => (e(i).fullUrl = ''));
    edit((_, e) => (e(i).fullUrl = 42));
    edit((_, e) => (e(i).fullUrl = 'urn:uuid'));
    edit((_, e) => (e(i).fullUrl = 'urn:uuidx0b8c7a52-3f1e-5d2a-9c4b-6e7f8a9b0c1d'));
    edit((_, e) => (e(i).fullUrl = 'urn:uuid:not-a-uuid'));
    edit((_, e) => (e(i).fullUrl = String(e(i).fullUrl).toUpperCase()));
    edit((_, e) => (e(i).fullUrl = `Patient/${i}`));
    edit((_, e) => (e(i).fullUrl = e(i + 1).fullUrl));
    edit((_, e) => delete e(i).resource);
    edit((_, e) => (e(i).resource = 'text'));
    edit((_, e) => (ref(e(i)).resourceType = 'Bundle'));
    edit((_, e) => (ref(e(i)).resourceType = 7));
    edit((_, e) => delete e(i).request);
    edit((_, e) => (e(i).request = []));
    edit((_, e) => (e(i).request = { url: 'Patient' }));
    edit((_, e) => (e(i).request = { method: 'POST', url: '' }));
    edit((_, e) => (e(i).request = { method: 'POST', url: 'Observation/1' }));
    edit((_, e) => (e(i).request = { method: 'POST', url: `${String(ref(e(i)).resourceType)}?identifier=x|1` }));
    edit((_, e) => (e(i).request = { method: 'POST', url: `${String(ref(e(i)).resourceType)}x` }));
    edit((_, e) => (e(i).request = { method: 'PUT', url: 'Other/1' }));
    edit((_, e) => ((ref(e(i)).resourceType = 'A/B'), (e(i).request = { method: 'POST', url: 'A/B' })));
    edit((_, e) => (ref(e(i)).subject = { reference: 'urn:uuid:00000000-0000-0000-0000-000000000000' }));
    edit((_, e) => (ref(e(i)).extension = [{ url: 'x', valueReference: { reference: `urn:uuid:missing-${i}` } }, { reference: ['urn:uuid:in-array'] }]));
    edit((_, e) => {
      // A reference deeper than the recursion limit, and one beside it that resolves.
      let deep: Rec = { reference: 'urn:uuid:deep' };
      for (let d = 0; d < 150; d++) deep = d % 2 ? { x: deep } : ({ y: [deep, { reference: String(e(0).fullUrl) }] } as Rec);
      ref(e(i)).contained = [deep];
    });
    edit((_, e) => (ref(e(i)).note = [{ reference: 12 }, null, 'urn:uuid:plain-string', { reference: 'Patient/123' }]));
    edit((_, e) => (ref(e(i)).code = { coding: [{ system: 'https://loinc.org', code: '1' }] }));
    edit((_, e) => (ref(e(i)).extension = [{ url: 'http://fhir.kemkes.go.id/r4/x', extension: [{ url: 'https://loinc.org' }] }]));
    edit((_, e) => (ref(e(i)).note = [{ value: 'https://loinc.org', system: 7 }, { url: 'http://loinc.org' }]));
    edit((_, e) => {
      // A URI value deeper than the recursion limit.
      let deep: Rec = { system: 'https://loinc.org' };
      for (let d = 0; d < 150; d++) deep = d % 2 ? { x: deep } : ({ y: [deep, { system: 'http://loinc.org' }] } as Rec);
      ref(e(i)).contained = [deep];
    });
  }
  edit((c) => (c.type = 'document'));
  edit((c) => delete c.type);
  edit((c) => (c.entry = { not: 'an array' }));
  edit((c) => (c.entry = [null, 3, 'x', [], ...entries]));
  edit((c) => (c.entry = [...entries, ...entries]));
  return out;
}

function compare(b: Rec): void {
  const want: Issue[] = [];
  referenceCheckBundle(b, 'Bundle', want);
  const got: Issue[] = [];
  const types = checkBundle(b, 'Bundle', got);
  expect(got).toEqual(want);
  expect([...types]).toEqual([...referenceEntryTypes(b)]);
  // The URI-scheme scan (UriScan) only adds its per-entry answers: the same issues and map with it.
  const scanned: Issue[] = [];
  const scan = { prefix: URI_PREFIX, clear: [] as boolean[] };
  expect([...checkBundle(b, 'Bundle', scanned, scan)]).toEqual([...types]);
  expect(scanned).toEqual(want);
  // An entry is clear exactly when it has a resource, no unresolved reference and no system/url the prefix matches (past the quick
  // walk's depth limit it is never clear: every deep variant here has a hit anyway).
  const entries = Array.isArray(b.entry) ? b.entry : [];
  entries.forEach((e: unknown, i: number) => {
    if (!isObj(e) || !isObj(e.resource)) return expect(scan.clear[i]).toBeUndefined();
    let hit = false;
    walkStrings(e.resource, '', URI_KEYS, (x) => URI_PREFIX.test(x), () => (hit = true));
    walkStrings(e.resource, '', REF_KEYS, (x) => x.startsWith('urn:uuid:') && !types.has(x) && !entries.some((o) => isObj(o) && o.fullUrl === x), () => (hit = true));
    expect(scan.clear[i]).toBe(!hit);
  });
}
const URI_PREFIX = /^(?:https:\/\/loinc\.org|http:\/\/fhir\.kemkes\.go\.id\/)/;
const URI_KEYS = new Set(['system', 'url']);

describe('checkBundle equals the previous implementation', () => {
  it('on the mapped samples and their broken variants', () => {
    expect(mapped.length).toBeGreaterThan(5);
    for (const b of mapped) {
      compare(b);
      for (const v of variants(b)) compare(v);
    }
  });

  it('on the conformance Bundles (when the corpus is present) and their broken variants', () => {
    for (const b of conformanceBundles()) {
      compare(b);
      for (const v of variants(b)) compare(v);
    }
  });

  it('under another base path and on Bundles without entries', () => {
    for (const b of [{ resourceType: 'Bundle' }, { resourceType: 'Bundle', type: 'collection', entry: [] }, ...mapped.slice(0, 2)]) {
      const want: Issue[] = [];
      referenceCheckBundle(b, 'Parameters.parameter[0].resource', want);
      const got: Issue[] = [];
      checkBundle(b, 'Parameters.parameter[0].resource', got);
      expect(got).toEqual(want);
    }
  });
});
