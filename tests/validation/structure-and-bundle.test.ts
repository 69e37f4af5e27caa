// Layer 1 (R4 structure), layer 3 (Bundle rules), base-only mode, and hostile input.
import { createValidator, MAX_ISSUES } from '../../src/validation/index.js';
import { hasErrors, type Issue } from '../../src/validation/outcome.js';
import { pointerToFhirPath } from '../../src/validation/r4-structure.js';
import * as F from './fixtures.js';

const v = createValidator();
const run = (r: unknown, o: { baseOnly?: boolean; expectedType?: string } = {}): Issue[] => v.validate(r, { now: F.NOW, ...o });
const at = (issues: Issue[]) => issues.map((i) => i.expression?.[0]);

describe('FHIR R4 structure (layer 1)', () => {
  test('knows all 146 R4 resource types', () => {
    expect(v.resourceTypes).toHaveLength(146);
    expect(v.resourceTypes).toEqual(expect.arrayContaining(['Patient', 'Bundle', 'Parameters', 'Observation']));
  });

  test('reports unknown elements, wrong JSON types, bad enums and bad primitives with FHIRPath locations', () => {
    const issues = run({ resourceType: 'Patient', gender: 'lelaki', birthDate: '17-02-1985', name: 'Budi', foo: 1 }, { baseOnly: true });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'error', code: 'structure', expression: ['Patient'], diagnostics: 'Unknown element at Patient (element 5 of 5 there; its name is not shown): not part of FHIR R4 here' }),
        expect.objectContaining({ severity: 'error', code: 'structure', expression: ['Patient.name'] }),
        expect.objectContaining({ severity: 'error', code: 'value', expression: ['Patient.gender'] }),
        expect.objectContaining({ severity: 'error', code: 'value', expression: ['Patient.birthDate'] }),
      ]),
    );
    expect(issues).toHaveLength(4);
    expect(issues.find((i) => i.expression?.[0] === 'Patient.birthDate')?.diagnostics).toContain('date');
  });

  test('never echoes the offending value (it may be a NIK or a name)', () => {
    const p = F.patient();
    p.identifier[0].value = ' 9271060312000001 \u0000';
    p.birthDate = '9271060312000001';
    const text = JSON.stringify(run(p));
    expect(text).not.toContain('9271060312000001');
  });

  test('a missing required complex element is a `required` issue', () => {
    const o = F.observation();
    delete o.code;
    expect(run(o, { baseOnly: true })).toEqual([expect.objectContaining({ code: 'required', expression: ['Observation.code'] })]);
  });

  test('base-R4 cardinality the schema cannot express (Observation.status) is checked in base-only mode too', () => {
    const o = F.observation();
    delete o.status;
    expect(at(run(o, { baseOnly: true }))).toEqual(['Observation.status']);
  });

  test('contained resources are validated by their own type', () => {
    const e = F.encounter();
    e.contained = [{ resourceType: 'Location', id: 'home', description: 'rumah', mode: 'kind' }, { resourceType: 'Location', id: 'x', bogus: true }];
    expect(at(run(e, { baseOnly: true }))).toEqual(['Encounter.contained[1]']);
  });

  test('unknown nested resourceType gets a clear error at its location', () => {
    const e = F.encounter();
    e.contained = [{ resourceType: 'Posyandu', id: 'p' }];
    expect(run(e, { baseOnly: true })).toEqual([expect.objectContaining({ code: 'not-supported', expression: ['Encounter.contained[0].resourceType'] })]);
  });

  test('Parameters.parameter.resource and nested parts are dispatched per type', () => {
    const params = { resourceType: 'Parameters', parameter: [{ name: 'a', part: [{ name: 'b', resource: { resourceType: 'Observation', status: 'final' } }] }] };
    expect(at(run(params))).toEqual(['Parameters.parameter[0].part[0].resource.code']);
  });

  test('pointer to FHIRPath', () => {
    expect(pointerToFhirPath('Bundle', '/entry/2/resource/code')).toBe('Bundle.entry[2].resource.code');
    expect(pointerToFhirPath('Patient', '')).toBe('Patient');
  });
});

describe('payload-level errors', () => {
  test.each([
    ['a string', 'Patient'],
    ['an array', [{ resourceType: 'Patient' }]],
    ['null', null],
  ])('%s is not a resource', (_n, payload) => {
    const issues = run(payload);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'error', code: 'structure' });
  });

  test('no resourceType', () => {
    expect(run({ id: 'x' })).toEqual([expect.objectContaining({ severity: 'error', code: 'required' })]);
  });

  test('unknown resourceType is a clear error, and the name is sanitised', () => {
    const issues = run({ resourceType: 'Pasien<script>' });
    expect(issues).toHaveLength(1);
    expect(issues[0].code).toBe('not-supported');
    expect(issues[0].diagnostics).toContain("'Pasienscript'");
  });

  test('expectedType mismatch is an error; a match adds nothing', () => {
    expect(run(F.patient(), { expectedType: 'Observation' })).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid' })]);
    expect(run(F.patient(), { expectedType: 'Patient' })).toEqual([]);
  });
});

describe('base-only mode', () => {
  test('ignores SATUSEHAT rules entirely', () => {
    const o = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://example.org', code: 'x' }] }, effectiveDateTime: '2001-01-01' };
    expect(hasErrors(run(o))).toBe(true);
    expect(run(o, { baseOnly: true })).toEqual([]);
  });
  test('a Bundle in base-only mode gets structure checks of each entry, no SATUSEHAT Bundle rules', () => {
    const b = F.bundle();
    b.type = 'collection';
    delete b.entry[0].fullUrl;
    b.entry[1].resource.valueQuantity.value = 'heavy';
    expect(at(run(b, { baseOnly: true }))).toEqual(['Bundle.entry[1].resource.valueQuantity.value']);
  });
});

describe('Bundle rules (layer 3)', () => {
  const rulesOf = (issues: Issue[]) => issues.map((i) => i.rule).filter(Boolean);

  test('conditional references (Patient?identifier=..., Location?identifier=...) are legal', () => {
    expect(run(F.bundle())).toEqual([]);
  });

  test('fullUrl missing (20021), not urn:uuid (20018), bad format (20017), bad UUID (20019), duplicate (20020)', () => {
    const b = F.bundle();
    delete b.entry[0].fullUrl;
    b.entry[1].fullUrl = 'Observation/123';
    b.entry[2].fullUrl = 'urn:uuid:not-a-uuid';
    const n = b.entry.length;
    b.entry.push({ ...F.clone(b.entry[2]), fullUrl: 'urn:uuid:not-a-uuid' });
    b.entry.push({ ...F.clone(b.entry[2]), fullUrl: 'urn:uuid0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e09' });
    const issues = run(b);
    expect(issues.find((i) => i.rule === '20021')?.expression).toEqual(['Bundle.entry[0].fullUrl']);
    expect(issues.find((i) => i.rule === '20018')?.expression).toEqual(['Bundle.entry[1].fullUrl']);
    expect(issues.find((i) => i.rule === '20019')?.expression).toEqual(['Bundle.entry[2].fullUrl']);
    expect(issues.find((i) => i.rule === '20020')?.expression).toEqual([`Bundle.entry[${n}].fullUrl`]);
    expect(issues.find((i) => i.rule === '20017')?.expression).toEqual([`Bundle.entry[${n + 1}].fullUrl`]);
    for (const i of issues.filter((x) => x.rule?.startsWith('200'))) expect(i.diagnostics).toMatch(/\(RuleNumber: 200\d\d\)$/);
  });

  test('a nested Bundle is rejected (20011)', () => {
    const b = F.bundle();
    b.entry.push({ fullUrl: 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e0f', resource: { resourceType: 'Bundle', type: 'collection' }, request: { method: 'POST', url: 'Bundle' } });
    expect(run(b).filter((i) => i.severity === 'error').map((i) => [i.rule, i.expression?.[0]])).toEqual([['20011', `Bundle.entry[${b.entry.length - 1}].resource`]]);
  });

  test('type must be transaction or batch', () => {
    const b = F.bundle();
    b.type = 'collection';
    expect(at(run(b))).toEqual(['Bundle.type']);
    b.type = 'batch';
    expect(run(b)).toEqual([]);
  });

  test('every entry needs request.method and request.url, and POST goes to the resource type', () => {
    const b = F.bundle();
    delete b.entry[0].request;
    delete b.entry[1].request.url;
    b.entry[2].request.url = 'Observation';
    expect(at(run(b))).toEqual(['Bundle.entry[0].request', 'Bundle.entry[1].request.url', 'Bundle.entry[2].request.url']);
  });

  test('an internal urn:uuid reference that matches no entry is an error at the reference', () => {
    const b = F.bundle();
    b.entry[1].resource.encounter.reference = 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2eff';
    expect(run(b)).toEqual([expect.objectContaining({ severity: 'error', code: 'not-found', expression: ['Bundle.entry[1].resource.encounter.reference'] })]);
  });

  test('urn:uuid references are type-checked through the entry they point to', () => {
    const b = F.bundle();
    b.entry[1].resource.encounter.reference = F.U.imm; // an Immunization, not an Encounter
    expect(run(b).map((i) => [i.ruleId, i.expression?.[0]])).toEqual([['observation-encounter-target', 'Bundle.entry[1].resource.encounter.reference']]);
  });

  test('entry resources get profile rules and structure checks with Bundle.entry[i].resource. expressions', () => {
    const b = F.bundle();
    delete b.entry[1].resource.performer;
    b.entry[2].resource.foo = 1;
    const issues = run(b);
    expect(rulesOf(issues)).toEqual(['10383']);
    expect(at(issues)).toEqual(['Bundle.entry[2].resource', 'Bundle.entry[1].resource.performer']);
  });
});

describe('hostile input does not crash or hang', () => {
  test('5,000 levels of nested extensions', () => {
    let ext: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
    for (let i = 0; i < 5000; i++) ext = { url: 'http://example.org/n', extension: [ext] };
    const p = F.patient();
    p.extension = [ext];
    const issues = run(p);
    expect(Array.isArray(issues)).toBe(true);
    // Either validated fine or reported as too deep — never a thrown exception.
    expect(issues.every((i) => i.code === 'too-costly')).toBe(true);
  });

  test('5,000 levels of nested Bundles are cut off with an issue', () => {
    let b: Record<string, unknown> = { resourceType: 'Bundle', type: 'collection' };
    for (let i = 0; i < 5000; i++) b = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: b }] };
    const issues = run(b, { baseOnly: true });
    expect(issues.some((i) => i.code === 'too-costly')).toBe(true);
    const full = run(b);
    expect(full.some((i) => i.rule === '20011')).toBe(true);
  });

  test('a 100,000-element array of wrong items gives a capped issue list', () => {
    const p = F.patient();
    p.name = Array.from({ length: 100_000 }, () => 'Budi');
    const issues = run(p);
    expect(issues.length).toBeLessThanOrEqual(MAX_ISSUES + 1);
    expect(issues.some((i) => i.expression?.[0] === 'Patient.name[0]')).toBe(true);
    expect(issues.some((i) => i.code === 'too-costly')).toBe(true);
  });

  test('a 100,000-element valid array validates', () => {
    const o = F.observation();
    o.note = Array.from({ length: 100_000 }, (_, i) => ({ text: `catatan ${i}` }));
    expect(run(o)).toEqual([]);
  });
});

describe('review findings (issue 3)', () => {
  test('base R4 accepts fhirVersion 4.0.1 (the R4 JSON schema enum stops at 4.0.0)', () => {
    const cs = { resourceType: 'CapabilityStatement', status: 'active', date: '2025-01-01', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], implementation: { description: 'x' } };
    expect(run(cs, { baseOnly: true })).toEqual([]);
    const sd = { resourceType: 'StructureDefinition', url: 'http://example.org/sd', name: 'X', status: 'draft', kind: 'resource', abstract: false, type: 'Patient', fhirVersion: '4.0.1' };
    expect(run(sd, { baseOnly: true })).toEqual([]);
    // A version that does not exist is still an error.
    expect(run({ ...cs, fhirVersion: '4.0.7' }, { baseOnly: true }).map((i) => i.expression?.[0])).toEqual(['CapabilityStatement.fhirVersion']);
  });

  test('an unknown element or resourceType holding a NIK or a name is not echoed in diagnostics or expression', () => {
    const p = F.patient() as Record<string, unknown>;
    p['9271060312000001'] = true;
    p['Budi Santoso'] = 1;
    const issues = run(p, { baseOnly: true });
    expect(issues.filter((i) => i.code === 'structure').length).toBeGreaterThanOrEqual(1);
    for (const i of issues) expect(i.expression).toEqual(['Patient']);
    const text = JSON.stringify([issues, run({ resourceType: '9271060312000001' }), run({ resourceType: 'Patient', contained: [{ resourceType: 'Budi Santoso 9271060312000001' }] })]);
    expect(text).not.toContain('9271060312000001');
    expect(text).not.toContain('Budi');
    // Not even a plain-looking element name is named (a one-word name such as 'Budi' looks just like one): parent and position.
    const typo = run({ ...F.patient(), gendr: 'male' }, { baseOnly: true });
    expect(typo.map((i) => i.expression?.[0])).toEqual(['Patient']);
    expect(typo[0].diagnostics).toMatch(/^Unknown element at Patient \(element \d+ of \d+ there; its name is not shown\)/);
    expect(JSON.stringify(typo)).not.toContain('gendr');
    expect(run({ resourceType: 'Observaton' })[0].diagnostics).toContain("'Observaton'");
  });
});
