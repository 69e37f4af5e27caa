// The generated rule code (src/validation/rule-codegen.ts) against the reference interpreter over a rule set written to reach
// every code path of the generator, whether or not profiles/satusehat-rules.json uses it today: each check kind and mode, `when`
// (equals, notEquals, presence, two conditions, on arrays), choice types `[x]` at the top and below arrays, repeating elements at
// every level, extensions, `unlisted`, organization ids (strict, consistentWith, required, kinds needing the regex), urn:uuid
// references resolved through a Bundle, rules for every type (`*`), both layers. Each resource is compared as it is and as
// deterministic mutants (tests/validation/reference/equivalence.ts); a planted difference shows the comparison can fail.
import { compileRules, type RuleDef, type RuleSet } from '../../src/validation/rule-engine.js';
import type { Issue } from '../../src/validation/outcome.js';
import { compareWithMutants, engines, mutants, newTally, rulePathsOf, type Engines } from './reference/equivalence.js';

type Json = Record<string, unknown>;
const SYS = 'http://sys-ids.kemkes.go.id';

const rule = (id: string, resourceType: string, where: string | string[], check: RuleDef['check'], extra: Partial<RuleDef> = {}): RuleDef => ({
  id, resourceType, ...(Array.isArray(where) ? { paths: where } : { path: where }), check, severity: 'warning', confidence: 'OFF', message: `rule ${id}`, ...extra,
});

const RULES: RuleDef[] = [
  rule('b-status', 'Observation', 'status', { kind: 'required' }, { layer: 'base-r4', severity: 'error' }),
  rule('b-value', 'Observation', 'value[x]', { kind: 'required' }, { layer: 'base-r4' }),
  rule('b-any-id', '*', 'id', { kind: 'required' }, { layer: 'base-r4' }),
  rule('uri', '*', '', { kind: 'uriScheme', fixes: [{ wrong: 'https://sys-ids.kemkes.go.id/', right: 'http://sys-ids.kemkes.go.id/' }, { wrong: 'https://loinc.org', right: 'http://loinc.org' }] }),
  rule('uri-none', '*', '', { kind: 'uriScheme', fixes: [] }),
  rule('req-root', 'Observation', '', { kind: 'required' }),
  rule('req-deep', 'Observation', 'component.valueQuantity.value', { kind: 'required' }, { rule: '10001' }),
  rule('req-choice', 'Observation', 'component.value[x]', { kind: 'required' }),
  rule('req-ext', 'Observation', ['extension.url', 'extension.value[x]', 'modifierExtension.extension.value[x]'], { kind: 'required' }),
  rule('req-when', 'Observation', 'performer', { kind: 'required' }, { when: [{ path: 'status', equals: 'final' }] }),
  rule('req-when2', 'Observation', 'issued', { kind: 'required' }, { when: [{ path: 'status', notEquals: 'preliminary' }, { path: 'category.coding.code', equals: 'vital-signs' }] }),
  rule('req-when-exists', 'Observation', 'valueQuantity.unit', { kind: 'required' }, { when: [{ path: 'valueQuantity' }] }),
  rule('req-when-bool', 'Observation', 'note', { kind: 'required' }, { when: [{ path: 'extension.valueBoolean', equals: true }] }),
  rule('req-when-num', 'Observation', 'method', { kind: 'required' }, { when: [{ path: 'component.valueInteger', equals: 3 }] }),
  rule('ref-all', 'Observation', ['subject', 'performer', 'hasMember'], { kind: 'reference', targets: ['Patient', 'Practitioner', 'Observation'] }),
  rule('ref-any', 'Observation', 'performer', { kind: 'reference', targets: ['Practitioner'], mode: 'any' }),
  rule('ref-odd-target', 'Observation', 'derivedFrom', { kind: 'reference', targets: ['Media', 'not a type', 'X'] }),
  rule('ref-none', 'Observation', 'focus', { kind: 'reference', targets: [], mode: 'any' }),
  rule('sys-all', 'Observation', 'category.coding', { kind: 'systems', mode: 'all', systems: { 'http://terminology.hl7.org/CodeSystem/observation-category': ['vital-signs', 'laboratory'], 'http://loinc.org': null } }),
  rule('sys-any', 'Observation', ['code.coding', 'component.code.coding'], { kind: 'systems', mode: 'any', systems: { 'http://loinc.org': null, 'http://snomed.info/sct': [] } }),
  rule('sys-any-req', 'Observation', 'method.coding', { kind: 'systems', mode: 'any', required: true, systems: { 'http://snomed.info/sct': null } }),
  rule('sys-codes', 'Observation', 'interpretation.coding', { kind: 'systems', mode: 'codes', systems: { 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation': ['H', 'L', 'N'] } }),
  rule('cc', 'Observation', ['code', 'component.code', 'extension.valueCodeableConcept'], { kind: 'codeableSystems', systems: ['http://loinc.org', 'http://snomed.info/sct'], required: true }),
  rule('cc-unlisted', 'Observation', ['code', 'valueCodeableConcept', 'component.code'], { kind: 'codeableSystems', systems: ['http://snomed.info/sct'], unlisted: ['http://loinc.org', 'http://example.org'] }),
  rule('cc-many', 'Observation', 'bodySite', { kind: 'codeableSystems', systems: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'http://snomed.info/sct'], unlisted: ['1', '2', '3', '4', '5', '6', '7', 'http://loinc.org'] }),
  rule('coding-present', 'Observation', 'category.coding', { kind: 'codingPresent', system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }),
  rule('code-format', 'Observation', ['code.coding', 'component.code.coding'], { kind: 'codeFormat', system: 'http://loinc.org', pattern: '^[0-9]{1,7}-[0-9]$' }),
  rule('id-value', 'Observation', 'identifier', { kind: 'identifierValue', systems: ['https://fhir.kemkes.go.id/id/nik', 'x', 'y', 'z', 'w', 'v', 'u'], pattern: '^[0-9]{16}$' }),
  rule('org-strict', 'Observation', 'identifier', { kind: 'orgIdentifier', kinds: ['observation', 'sitb'], required: false, strict: true }),
  rule('org-required', 'Observation', 'identifier', { kind: 'orgIdentifier', kinds: ['observation'], required: true, consistentWith: 'performer' }),
  rule('org-consistent', 'Location', 'identifier', { kind: 'orgIdentifier', kinds: ['location'], required: true, consistentWith: 'managingOrganization' }),
  rule('org-regex-kinds', 'Observation', 'identifier', { kind: 'orgIdentifier', kinds: ['obs(ervation)?', 'si.b'], required: true }),
  rule('dt-format', 'Observation', ['effective[x]', 'issued', 'component.valueDateTime', 'extension.valueDateTime'], { kind: 'dateTimeFormat' }),
  rule('dt-utc', 'Observation', ['effective[x]', 'issued', 'component.valueDateTime'], { kind: 'dateTimeUtc' }),
  rule('dt-range', 'Observation', ['effective[x]', 'issued', 'component.valueDateTime'], { kind: 'dateTimeRange', notBefore: '2022-08-31T00:00:00+00:00', notFuture: true }),
  rule('dt-future', 'Observation', 'effectivePeriod.end', { kind: 'dateTimeRange', notFuture: true }),
  rule('dt-before', 'Observation', 'effectivePeriod.start', { kind: 'dateTimeRange', notBefore: '2024-01-01T00:00:00Z' }),
  rule('after', 'Observation', 'issued', { kind: 'after', other: 'effectiveDateTime' }),
  rule('after-period', 'Observation', 'effectivePeriod.end', { kind: 'after', other: 'effectivePeriod.start' }, { when: [{ path: 'status', equals: 'final' }] }),
  rule('date-after', 'Observation', 'extension.valueDate', { kind: 'dateAfter', other: 'effectiveDateTime' }),
  rule('date-after-same', 'Observation', 'component.valueDateTime', { kind: 'dateAfter', other: 'issued', allowSameDay: true }),
  rule('ucum-system', 'Observation', ['valueQuantity', 'component.valueQuantity'], { kind: 'ucumSystem' }),
  rule('ucum-code', 'Observation', 'valueQuantity', { kind: 'ucumCode', notUcum: { mmHg: 'mm[Hg]', bpm: '/min' } }),
  rule('ucum-code-shared', 'Observation', 'component.valueQuantity', { kind: 'ucumCode', notUcum: 'ucum-code' }),
  rule('ucum-code-plain', 'Observation', 'referenceRange.low', { kind: 'ucumCode' }),
  rule('positive', 'Observation', ['component.valueInteger', 'valueInteger'], { kind: 'positiveInt' }),
  rule('contains', 'Observation', 'component.code.coding.code', { kind: 'containsAll', values: ['8480-6', '8462-4'] }, { when: [{ path: 'code.coding.code', equals: '85354-9' }] }),
  rule('contains-none', 'Observation', 'category.coding.code', { kind: 'containsAll', values: [] }),
  rule('star-ref', '*', 'subject', { kind: 'reference', targets: ['Patient'] }),
];
const SET: RuleSet = { version: 'codepaths', rules: RULES };

const Q = (value: unknown, code: string) => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });
function observation(): Json {
  return {
    resourceType: 'Observation',
    id: 'obs-1',
    identifier: [{ system: `${SYS}/observation/10000004`, value: 'V1.bp' }, { system: 'https://fhir.kemkes.go.id/id/nik', value: '3171234567890123' }],
    status: 'final',
    extension: [
      { url: 'http://example.org/ext-date', valueDate: '2025-03-02' },
      { url: 'http://example.org/ext-cc', valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '1-2' }] } },
      { url: 'http://example.org/ext-flag', valueBoolean: true },
      { url: 'http://example.org/ext-dt', valueDateTime: '2025-03-01T01:00:00+07:00' },
    ],
    modifierExtension: [{ url: 'http://example.org/m', extension: [{ url: 'a', valueString: 'x' }, { url: 'b' }] }],
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }, { system: 'http://loinc.org', code: 'x' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }, { system: 'http://example.org', code: 'bp' }] },
    subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
    performer: [{ reference: 'Practitioner/10009880728' }, { reference: `Organization/10000004` }],
    hasMember: [{ reference: 'Observation/a' }, { reference: 'Observation/a/_history/2' }, { reference: 'Condition?code=x' }, { reference: 'urn:uuid:00000000-0000-4000-8000-000000000009' }],
    derivedFrom: [{ reference: 'Media/m1' }, { reference: '#contained' }],
    effectiveDateTime: '2025-03-01T01:00:00+00:00',
    effectivePeriod: { start: '2023-01-01T00:00:00Z', end: '2025-03-01T00:00:00Z' },
    issued: '2025-03-01T02:00:00.123Z',
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H' }, { system: 'http://other', code: 'Q' }] }],
    method: { coding: [{ system: 'http://snomed.info/sct', code: '1' }] },
    bodySite: { coding: [{ system: '3', code: 'x' }, { system: 'http://loinc.org' }] },
    valueCodeableConcept: { coding: [{ system: 'http://example.org', code: 'e' }] },
    component: [
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: Q(120, 'mm[Hg]') },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: [Q(80, 'mmHg'), { unit: 'x' }] },
      { code: [{ text: 'no coding' }, { coding: [] }], valueInteger: 3, valueDateTime: '2025-03-01T09:00:00+07:00' },
      { valueString: '' },
    ],
    referenceRange: [{ low: { value: 1, code: 'k g' } }, { low: { value: 2 } }],
    note: [{ text: 'n' }],
  };
}

function bundle(): Json {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', id: 'p', identifier: [{ system: 'https://sys-ids.kemkes.go.id/x', value: '1' }] } },
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000002', resource: observation() },
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000003', resource: { resourceType: 'Location', identifier: [{ system: `${SYS}/location/10000004`, value: 'L' }], managingOrganization: { reference: 'Organization/10000005' } } },
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000009', resource: { resourceType: 'Observation', status: 'preliminary', subject: { reference: 'Patient/P1' }, valueInteger: 0, identifier: [{ system: `${SYS}/sitb/10000004`, value: 's' }] } },
    ],
  };
}

const resources: Record<string, () => Json> = {
  observation,
  bundle,
  'observation, other shapes': () => ({ ...observation(), status: 'preliminary', effectiveDateTime: undefined, effectiveInstant: '2025-03-01T01:00:00Z', valueQuantity: Q(3, 'bpm'), identifier: { system: `${SYS}/obs/10000004` } }),
  'location with a different managing organization': () => ({ resourceType: 'Location', id: 'l', identifier: [{ system: `${SYS}/location/10000004`, value: 'L' }, { system: `${SYS}/location/10000004/x` }], managingOrganization: { reference: 'Organization/10000005' } }),
  'type of every rule': () => ({ resourceType: '*', subject: { reference: 'Group/g' } }),
};

describe('generated rule code = reference interpreter, over a rule set that reaches every code path', () => {
  const e = engines(SET);
  test.each(Object.keys(resources))('%s and its mutants', (name) => {
    const tally = newTally();
    compareWithMutants(e, resources[name](), tally, name);
    expect(tally.differences).toEqual([]);
    expect(tally.findings).toBeGreaterThan(100);
  });

  test('every rule finds something somewhere in the corpus (no rule compiled to a no-op by mistake)', () => {
    const fired = new Set<string>();
    const ctx = { nowMs: Date.parse('2025-06-01T00:00:00Z'), organizationId: '10000004' };
    const record = (res: Json, base: string) => {
      for (const layer of ['base', 'profile'] as const) {
        const out: Issue[] = [];
        e.current.run(res, base, ctx, out, layer);
        for (const i of out) fired.add(String(i.ruleId));
      }
    };
    for (const make of Object.values(resources)) {
      const res = make();
      const entries = ((res.entry as Json[] | undefined) ?? []).map((x) => x.resource as Json);
      for (const r of [res, ...entries]) {
        record(r, String(r.resourceType));
        for (const [, m] of mutants(r, rulePathsOf(SET, String(r.resourceType)))) record(m, String(r.resourceType));
      }
    }
    // These three cannot fire: no fixes, no values to contain, and a resource (with its resourceType) is never empty.
    const silent = RULES.filter((r) => !['uri-none', 'contains-none', 'req-root'].includes(r.id) && !fired.has(r.id)).map((r) => r.id);
    expect(silent).toEqual([]);
  });

  test('a planted difference (two findings in swapped order) is reported', () => {
    const current = compileRules(SET);
    const planted: Engines = {
      ...e,
      current: {
        ...current,
        run(res, base, ctx, out, layer) {
          const mine: Issue[] = [];
          current.run(res, base, ctx, mine, layer);
          if (mine.length >= 2) [mine[0], mine[1]] = [mine[1], mine[0]];
          out.push(...mine);
        },
      },
    };
    const tally = newTally();
    compareWithMutants(planted, observation(), tally, 'planted');
    expect(tally.differences.length).toBeGreaterThan(0);
  });
});
