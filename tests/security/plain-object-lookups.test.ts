// Static check: no plain-object lookup keyed by a run-time string in src/ (the benchmarks, which no input reaches, live in bench/) unless listed
// below with the reason it is safe. `table[key]` / `key in table` on a plain object accepts `constructor`, `toString`, `__proto__` …
// as entries (issue 10: `locationCode: "constructor"` registered a junk Location). What the scan reports (tests/security/lookup-scan.ts):
// element accesses and `in` tests whose key has the type `string` (or any/unknown) and whose object is string-indexed (Record<string, T>
// or an index signature); not arrays or tuples, not literal or literal-union keys, not a read by an own key of the same object
// (`for (const k of Object.keys(o)) o[k]`). A new lookup keyed by input must use ownEntry()/hasEntry() (src/util/own.ts), a Map, or
// an emptyTable() — and, for the last, be listed here.
import path from 'node:path';
import { scanPlainObjectLookups, type LookupHit } from './lookup-scan.js';

const root = path.resolve(import.meta.dirname ?? __dirname, '..', '..');

/** `file: lookup text` → why it is safe. Keep reasons short and true; a stale entry fails the test too. */
const REVIEWED: Record<string, string> = {
  'src/util/own.ts: table[key]': 'the guarded lookup itself (Object.hasOwn first)',
  'src/app/import-template.ts: at[p]': 'setPath: null-prototype objects, path parts from the import template (configuration), not from the file',
  'src/app/import-template.ts: at[parts[parts.length - 1]!]': 'setPath: null-prototype objects, path parts from the import template (configuration), not from the file',
  'src/config/facilities.ts: locations[code]': 'write into emptyTable() (no prototype)',
  'src/config/facilities.ts: out[org]': 'write into a null-prototype SecretsMap',
  'src/config/service.ts: env[k]': 'k is one of the environment variable names the code lists',
  'src/mapping/source-schema.ts: (record as Record<string, unknown>)[k]': 'k is a property name of the contract schema; reads the record',
  'src/validation/r4-structure.ts: patterns[String(err.params.pattern)]': 'the pattern comes from the compiled FHIR schema, not the payload',
  'src/validation/r4-structure.ts: (cur as Record<string, unknown>)[seg]': 'guarded by Object.hasOwn on the line above',
  'src/validation/r4-structure.ts: fns[k]': 'k is an own key of fns (Object.keys(fns).filter)',
  'src/validation/r4-structure.ts: this.fns[type]': 'guarded by has() (Object.prototype.hasOwnProperty.call)',
  'src/validation/rule-engine.ts: res[c.consistentWith]': 'consistentWith is an element name from profiles/ (configuration), reading the payload',
  'src/util/logger.ts: (err as unknown as Record<string, unknown>)[k]': 'k is one of four literal property names',
  'src/util/logger.ts: out[k]': 'k is one of four literal property names',
  'src/util/logger.ts: o[k]': 'write into emptyTable() (no prototype)',
  'src/util/json-limits.ts: (value as Record<string, unknown>)[k]': 'guarded by hasOwnProperty.call on the line above',
  'src/api/health.ts: out[c.name]': 'c.name is a readiness check name set in code',
  'src/sync/hash.ts: obj[k]': 'k is an own key of obj (Object.keys(obj))',
  'src/simulator/app.ts: stats.byStatus[String(status)]': 'an HTTP status number as text',
  'src/sync/verified-search.ts: (r as unknown as Record<string, { reference?: unknown } | undefined>)[element]': 'element is a reference element named in code (search parameters), reading a platform resource',
  'src/sync/delivery/plan.ts: plan.resourceIds[e.key]': 'entry keys are made by the mapper from fixed words and checked codes ("encounter", "condition/I10")',
  'src/sync/delivery/execute.ts: resourceIds[sentKeys[i]!]': 'entry keys are made by the mapper',
  'src/sync/delivery/execute.ts: ids[e.key]': 'entry keys are made by the mapper',
  'src/sync/delivery/execute.ts: out[e.key]': 'entry keys are made by the mapper',
};

const key = (h: LookupHit) => `${h.file}: ${h.text}`;

describe('plain-object lookups keyed by a run-time string', () => {
  const hits = scanPlainObjectLookups(root, ['src']);

  it('every one in src/ is reviewed (use ownEntry/hasEntry from src/util/own.ts, a Map, or list it here with the reason)', () => {
    const unreviewed = hits.filter((h) => !Object.hasOwn(REVIEWED, key(h))).map((h) => `${h.file}:${h.line} ${h.text}`);
    expect(unreviewed).toEqual([]);
  });

  it('no reviewed entry is stale (the list stays exact)', () => {
    const found = new Set(hits.map(key));
    expect(Object.keys(REVIEWED).filter((k) => !found.has(k))).toEqual([]);
  });

  it('the scan reports a plain lookup and an `in` test, and not array, literal or own-key access (canary file)', () => {
    const canary = scanPlainObjectLookups(root, ['tests/security/fixtures/lookup-canary.ts']);
    expect(canary.map((h) => h.text)).toEqual(['TABLE[key]', 'key in TABLE']);
  });
});
