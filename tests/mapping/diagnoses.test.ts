// The visit diagnosis: diagnoses the record sends (ICD-10 from SIMPUS) mapped as given, the derivation table of mappings/diagnoses.json
// (every rule exercised by a targeted record), bad inputs reported at their source field, and a table edit that needs no code.
import type { Condition, Encounter } from 'fhir/r4.js';
import { checkTables, mapVisit, type MappingTables, type VisitImmunization, type VisitRecord } from '../../src/mapping/index.js';
import { analyseVisit } from '../../src/mapping/check.js';
import { NOW, sample, samples, tables } from './helpers.js';

type Mutable = VisitRecord & Record<string, unknown>;
const derived = (r: VisitRecord, t: MappingTables = tables) => {
  const { issues, plan } = analyseVisit(r, t, NOW);
  expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  return plan!.diagnoses.map((d) => [d.code, d.ruleId]);
};
const errorsAt = (r: unknown) => mapVisit(r, tables, { now: NOW }).issues.filter((i) => i.severity === 'error').map((i) => [i.expression?.[0], i.diagnostics]);

/** A 2-month-old's Posyandu visit reduced to what each case adds. */
function infant(measurements: VisitRecord['measurements'] = [], immunizations: VisitImmunization[] = []): VisitRecord {
  const r = sample('infant-posyandu-immunization');
  r.measurements = measurements;
  r.immunizations = immunizations;
  return r;
}
const given = (vaccine: string, dose = 1): VisitImmunization => ({
  vaccine, dose, status: 'completed', source: 'administered', lotNumber: 'L-1', expirationDate: '2027-06-30', givenAt: '2026-10-05T08:50:00+07:00',
});
const notDone = (vaccine: string, notDoneReason: VisitImmunization['notDoneReason']): VisitImmunization => ({ vaccine, dose: 2, status: 'not-done', source: 'administered', notDoneReason });
const weight = { code: 'body-weight', value: 5.1, unit: 'kg' };
function adult(measurements: VisitRecord['measurements'] = [], immunizations: VisitImmunization[] = []): VisitRecord {
  const r = sample('adult-ptm-screening');
  r.measurements = measurements;
  r.immunizations = immunizations;
  return r;
}

describe('derivation by mappings/diagnoses.json (no diagnoses in the record)', () => {
  const cases: Array<[string, () => VisitRecord, Array<[string, string]>]> = [
    ['ANC visit (fundal height): supervision of pregnancy, no PTM screening for the routine BP/Hb', () => sample('pregnant-anc'), [['Z34.9', 'anc'], ['Z27.8', 'combined']]],
    ['ANC visit with its pregnancy context but no fundal height: supervision of pregnancy', () => {
      const r = sample('pregnant-anc');
      r.measurements = r.measurements!.filter((m) => m.code !== 'fundal-height');
      return r;
    }, [['Z34.9', 'anc-pregnancy-context'], ['Z27.8', 'combined']]],
    ['child weighing: routine child health examination', () => infant([weight]), [['Z00.1', 'child-exam']]],
    ['adult PTM screening: cardiovascular, then diabetes', () => sample('adult-ptm-screening'), [['Z13.6', 'cardiovascular-screening'], ['Z13.1', 'diabetes-screening']]],
    ['woman of childbearing age with Hb: anaemia screening, Td as a combination', () => sample('wus-td-catin'), [['Z13.0', 'anaemia-screening'], ['Z27.8', 'combined']]],
    ['school girl (BIAS): child exam, anaemia screening, two vaccines', () => sample('school-screening-bias'), [['Z00.1', 'child-exam'], ['Z13.0', 'anaemia-screening'], ['Z27.8', 'combined']]],
    ['adult with a weighing only: general examination', () => adult([{ code: 'body-weight', value: 61, unit: 'kg' }]), [['Z00.0', 'adult-exam']]],
    ['BCG only, no measurement: need for immunization is the primary diagnosis', () => infant([], [given('BCG')]), [['Z23.2', 'bcg']]],
    ['PCV only', () => infant([], [given('PCV')]), [['Z23.8', 'pcv']]],
    ['OPV and IPV (both polio)', () => infant([], [given('OPV'), given('IPV')]), [['Z24.0', 'polio']]],
    ['JE only', () => infant([], [given('JE')]), [['Z24.1', 'je']]],
    ['HB0 only', () => infant([], [given('HB0')]), [['Z24.6', 'hepatitis-b']]],
    ['rotavirus only', () => infant([], [given('RV')]), [['Z25.8', 'other-single-viral']]],
    ['weighing + DPT-HB-Hib: child exam first, then the combination', () => infant([weight], [given('DPT-HB-Hib')]), [['Z00.1', 'child-exam'], ['Z27.8', 'combined']]],
    ['postponed for a medical precaution', () => infant([weight], [notDone('DPT-HB-Hib', 'medical-precaution')]), [['Z00.1', 'child-exam'], ['Z28.0', 'not-done-contraindication']]],
    ['postponed for another reason', () => infant([], [notDone('OPV', 'postponed')]), [['Z28.8', 'not-done-other']]],
    ['child with only a recalled dose: the child catch-all', () => infant([], [{ vaccine: 'BCG', dose: 1, status: 'completed', source: 'recall' }]), [['Z00.1', 'child-fallback']]],
    ['adult with nothing recorded: the catch-all', () => adult(), [['Z00.0', 'fallback']]],
  ];

  it.each(cases)('%s', (_name, make, expected) => {
    expect(derived(make())).toEqual(expected);
  });

  it('exercises every rule of the table (a new rule needs a case here)', () => {
    const hit = new Set(cases.flatMap(([, make]) => derived(make()).map(([, id]) => id)));
    expect(tables.diagnoses.rules.map((r) => r.id).filter((id) => !hit.has(id))).toEqual([]);
  });

  it('gives every sample a diagnosis, ranked 1..n, with the table display', () => {
    for (const s of samples) {
      const { plan } = analyseVisit(s.record, tables, NOW);
      expect(plan!.diagnoses.length).toBeGreaterThan(0);
      expect(plan!.diagnoses.map((d) => d.rank)).toEqual(plan!.diagnoses.map((_d, i) => i + 1));
      for (const d of plan!.diagnoses) expect(d.display).toBe(tables.diagnoses.codes[d.code]!.display);
    }
  });

  it('uses the age at the visit: the same weighing is a child exam at 17 years and 11 months, an adult one at 18', () => {
    const r = adult([{ code: 'body-weight', value: 50, unit: 'kg' }]);
    r.patient.birthDate = '2008-10-06';
    expect(derived(r)).toEqual([['Z00.1', 'child-exam']]);
    r.patient.birthDate = '2008-10-05';
    expect(derived(r)).toEqual([['Z00.0', 'adult-exam']]);
  });
});

describe('diagnoses sent by the facility', () => {
  it('are mapped as given, ranked (given ranks first, then list order), with the table display when none is sent; nothing is derived', () => {
    const r = sample('infant-posyandu-immunization') as Mutable;
    r.diagnoses = [
      { code: 'J06.9' },
      { code: 'E44.1', rank: 1, clinicalStatus: 'active', onset: '2026-09-20T10:00:00+07:00' },
      { code: 'Z00.1', display: 'Pemeriksaan kesehatan rutin anak' },
    ];
    const res = mapVisit(r, tables, { now: NOW });
    expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
    const conds = res.entries.filter((e) => e.resource.resourceType === 'Condition');
    expect(conds.map((e) => e.key)).toEqual(['condition/E44.1', 'condition/J06.9', 'condition/Z00.1']);
    const [e44, j06, z00] = conds.map((e) => e.resource as Condition);
    expect(e44!.code!.coding).toEqual([{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'E44.1', display: 'Mild protein-calorie malnutrition' }]);
    expect(e44!.onsetDateTime).toBe('2026-09-20T03:00:00+00:00');
    expect(j06!.code!.coding).toEqual([{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'J06.9' }]); // well-formed, not in the table: no display
    expect(z00!.code!.coding![0]!.display).toBe('Pemeriksaan kesehatan rutin anak');
    expect(z00!.clinicalStatus!.coding![0]!.code).toBe(tables.diagnoses.defaults.clinicalStatus.code);
    const enc = res.entries.find((e) => e.key === 'encounter')!.resource as Encounter;
    expect(enc.diagnosis!.map((d) => [d.condition.reference, d.rank])).toEqual(conds.map((e, i) => [e.fullUrl, i + 1]));
    expect(enc.diagnosis![0]!.condition.display).toBe('Mild protein-calorie malnutrition');
  });

  it('a clinicalStatus sent is kept', () => {
    const r = sample('elderly-screening') as Mutable;
    r.diagnoses = [{ code: 'I10', clinicalStatus: 'remission' }];
    const c = mapVisit(r, tables, { now: NOW }).entries.find((e) => e.key === 'condition/I10')!.resource as Condition;
    expect(c.clinicalStatus!.coding![0]!.code).toBe('remission');
  });

  it('an onset long before the platform cut-off (a chronic condition) is accepted; one after the visit is not', () => {
    const r = sample('elderly-screening') as Mutable;
    r.diagnoses = [{ code: 'I10', onset: '2015-01-01T00:00:00+07:00' }];
    expect(errorsAt(r)).toEqual([]);
    r.diagnoses = [{ code: 'I10', onset: '2026-10-14T23:00:00+07:00' }];
    expect(errorsAt(r)).toEqual([['diagnoses[0].onset', expect.stringContaining('after the visit end')]]);
  });

  const bad: Array<[string, unknown, string, RegExp]> = [
    ['lower-case code', [{ code: 'z00.1' }], 'diagnoses[0].code', /must be an ICD-10 code: a capital letter, two digits/],
    ['code without its dot', [{ code: 'Z001' }], 'diagnoses[0].code', /ICD-10 code/],
    ['trailing dot', [{ code: 'Z00.' }], 'diagnoses[0].code', /ICD-10 code/],
    ['a NIK typed as code (never echoed)', [{ code: '3171014501900003' }], 'diagnoses[0].code', /ICD-10 code/],
    ['no code', [{ display: 'Demam' }], 'diagnoses[0].code', /is required/],
    ['rank 0', [{ code: 'I10', rank: 0 }], 'diagnoses[0].rank', /must be at least 1/],
    ['unknown clinicalStatus', [{ code: 'I10', clinicalStatus: 'confirmed' }], 'diagnoses[0].clinicalStatus', /must be one of active, recurrence/],
    ['unknown field (not named)', [{ code: 'I10', severity: 'mild' }], 'diagnoses[0]', /^unknown field at diagnoses\[0\] \(field 2 there, not in the contract; its name is not shown\)/],
    ['empty list', [], 'diagnoses', /needs at least 1 entries/],
    ['not a list', { code: 'I10' }, 'diagnoses', /must be a list/],
    ['onset not a real date', [{ code: 'I10', onset: '2026-02-30T08:00:00+07:00' }], 'diagnoses[0].onset', /not a real date-time/],
    ['blank display', [{ code: 'I10', display: '  ' }], 'diagnoses[0].display', /not blank/],
  ];
  it.each(bad)('%s → an error at %s', (_name, diagnoses, at, text) => {
    const r = { ...sample('elderly-screening'), diagnoses };
    const errs = errorsAt(r);
    expect(errs).toEqual([[at, expect.stringMatching(text)]]);
    expect(JSON.stringify(errs)).not.toContain('3171014501900003');
  });

  it('a repeated code or rank is reported at the later entry', () => {
    const r = { ...sample('elderly-screening'), diagnoses: [{ code: 'I10', rank: 1 }, { code: 'E11.9', rank: 1 }, { code: 'I10' }] };
    expect(errorsAt(r)).toEqual([
      ['diagnoses[1].rank', expect.stringContaining('already the rank of diagnoses[0]')],
      ['diagnoses[2].code', expect.stringContaining('repeats diagnosis I10 of diagnoses[0]')],
    ]);
  });
});

describe('the derivation table is data', () => {
  it('a rule added to an in-memory copy derives a new diagnosis, in its slot order, without code change', () => {
    const copy: MappingTables = {
      ...tables,
      diagnoses: {
        ...tables.diagnoses,
        slots: ['home-follow-up', ...tables.diagnoses.slots],
        rules: [...tables.diagnoses.rules, {
          id: 'home-visit-follow-up', slot: 'home-follow-up', when: { settings: ['home-visit'], immunizations: { sources: ['recall'] } },
          code: 'Z09.8', confidence: 'UNV', source: 'test',
        }],
        codes: { ...tables.diagnoses.codes, 'Z09.8': { display: 'Follow-up examination after other treatment for other conditions', confidence: 'UNV', source: 'test' } },
      },
    };
    expect(checkTables(copy)).toEqual([]);
    const r = sample('home-visit-dofu');
    expect(derived(r, copy)).toEqual([['Z09.8', 'home-visit-follow-up'], ['Z00.1', 'child-exam'], ['Z27.8', 'combined']]);
    expect(derived(r)).toEqual([['Z00.1', 'child-exam'], ['Z27.8', 'combined']]);
    const c = mapVisit(r, copy, { now: NOW }).entries.find((e) => e.key === 'condition/Z09.8')!.resource as Condition;
    expect(c.code!.coding![0]!.display).toBe('Follow-up examination after other treatment for other conditions');
  });

  it('the loader rejects a rule with an unknown slot, measurement, vaccine or condition, a malformed code, and a table without catch-all', () => {
    const broken: MappingTables = {
      ...tables,
      diagnoses: {
        ...tables.diagnoses,
        rules: [
          { id: 'a', slot: 'nowhere', when: {}, code: 'Z00.1', confidence: 'UNV', source: 's' },
          { id: 'b', slot: 'child', when: { measurementsAny: ['shoe-size'], immunizations: { vaccinesOnly: ['XYZ'] } }, code: 'Z00.1', confidence: 'UNV', source: 's' },
          { id: 'c', slot: 'child', when: { ageYears: 3 } as never, code: 'z00', confidence: 'UNV', source: 's' },
        ],
      },
    };
    const problems = checkTables(broken).join('\n');
    expect(problems).toMatch(/rules\[0\] \(a\): slot "nowhere" is not in "slots"/);
    expect(problems).toMatch(/rules\[1\] \(b\): measurement "shoe-size" is not in observations\.json/);
    expect(problems).toMatch(/rules\[1\] \(b\): vaccine "XYZ" is not in vaccines\.json/);
    expect(problems).toMatch(/rules\[2\] \(c\): code must be an ICD-10 code/);
    expect(problems).toMatch(/rules\[2\] \(c\): unknown condition "ageYears"/);
    expect(checkTables({ ...broken, diagnoses: { ...broken.diagnoses, rules: broken.diagnoses.rules.slice(1) } }).join('\n')).toMatch(/needs a catch-all rule/);
  });
});
