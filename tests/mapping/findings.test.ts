// Findings of every value kind and the pregnancy context (mappings/findings.json): every table entry and answer maps to the
// Observation the table describes and passes the project's validator; the pregnancy fields take the same path as findings[];
// bad values are rejected at their source field without echoing private data; a new finding is a table edit.
import type { Condition, Encounter, Observation } from 'fhir/r4.js';
import { checkTables, checkVisit, mapVisit, unconfirmedValues, type MappingTables } from '../../src/mapping/index.js';
import type { FindingEntry } from '../../src/mapping/types.js';
import type { Issue } from '../../src/validation/outcome.js';
import { createValidator } from '../../src/validation/index.js';
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { NOW, sample, samples, tables } from './helpers.js';

type Mutable = Record<string, any>;
const validator = createValidator();
const PRIVATE = ['7371045709980002', 'Nurul Hidayah', '+6285255501234'];
const VISIT_DATE = '2026-10-07';

const addDays = (date: string, days: number) => new Date(Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8, 10)) + days * 86_400_000).toISOString().slice(0, 10);

/** An adult woman at a Puskesmas with no findings yet (the ANC sample without its pregnancy context). */
function woman(): Mutable {
  const r = sample('pregnant-anc') as unknown as Mutable;
  delete r.findings;
  delete r.pregnancy;
  for (const m of r.measurements) delete m.interpretation;
  return r;
}

/** A value of the entry's kind that the table accepts, chosen from the table itself. */
function validValue(e: FindingEntry): { value: string | number | boolean; unit?: string } {
  switch (e.kind) {
    case 'coded': return { value: Object.keys(e.answers!)[0] };
    case 'boolean': return { value: true };
    case 'integer': return { value: e.range!.min };
    // The middle of the plausible window: LMP 157 days before the visit, EDD 122 days after it (LMP + 279), gestational age 22.5 weeks.
    case 'date': return { value: addDays(VISIT_DATE, Math.round((e.dateRange!.minDays + e.dateRange!.maxDays) / 2)) };
    case 'quantity': return { value: (e.range!.min + e.range!.max) / 2, unit: e.ucum!.code };
  }
}

const observationOf = (res: ReturnType<typeof mapVisit>, key: string) => res.entries.find((x) => x.key === `observation/${key}.1`)?.resource as Observation | undefined;
const systemUrl = (t: MappingTables, key: string) => t.findings.systems[key].url;
const errorsOnly = (issues: Issue[]) => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

function expectValidBundle(record: unknown, t: MappingTables = tables) {
  const res = mapVisit(record, t, { now: NOW });
  expect(errorsOnly(res.issues)).toEqual([]);
  const issues = validator.validate(res.bundle, { now: NOW, organizationId: '10000004' });
  expect(errorsOnly(issues)).toEqual([]);
  return res;
}

describe('every finding of mappings/findings.json', () => {
  const entries = Object.entries(tables.findings.entries);

  it('covers the items the brief names', () => {
    expect(entries.map(([k]) => k)).toEqual(expect.arrayContaining([
      'tb-symptom-screening', 'smoking-status', 'alcohol-use', 'physical-activity', 'vegetable-servings', 'fruit-servings', 'high-sugar-intake',
      'high-salt-intake', 'high-fat-intake', 'blood-group', 'rhesus', 'fetal-presentation', 'hiv-rapid-test', 'syphilis-rapid-test', 'hbsag-rapid-test',
      'urine-protein', 'urine-glucose', 'pregnancy-status', 'gravida', 'para', 'abortus', 'fetuses', 'lmp', 'edd', 'gestational-age',
      'pre-pregnancy-weight', 'fetal-heart-rate',
    ]));
  });

  it('maps one record carrying each of them, with the table codes, category and value element, and the validator accepts the Bundle', () => {
    const r = woman();
    r.findings = entries.map(([code, e]) => ({ code, ...validValue(e) }));
    const res = expectValidBundle(r);
    for (const [key, e] of entries) {
      const obs = observationOf(res, key)!;
      expect(obs).toBeDefined();
      expect(obs.identifier).toEqual([{ system: 'http://sys-ids.kemkes.go.id/observation/10000004', value: `${r.visitId}.${key}.1` }]);
      expect(obs.code.coding).toEqual(e.code.map((c) => ({ system: systemUrl(tables, c.system), code: c.code, display: c.display })));
      expect(obs.category!.map((c) => c.coding![0].code)).toEqual(e.category);
      expect(obs.category!.every((c) => c.coding![0].system === 'http://terminology.hl7.org/CodeSystem/observation-category')).toBe(true);
      const valueKeys = Object.keys(obs).filter((k) => k.startsWith('value'));
      const element = { coded: 'valueCodeableConcept', boolean: 'valueBoolean', integer: 'valueInteger', date: 'valueDateTime', quantity: 'valueQuantity' }[e.kind];
      expect([key, valueKeys]).toEqual([key, [element]]);
      if (e.kind === 'quantity') expect(obs.valueQuantity).toEqual({ value: validValue(e).value, unit: e.ucum!.unit, system: 'http://unitsofmeasure.org', code: e.ucum!.code });
      if (e.kind === 'date') expect(obs.valueDateTime).toBe(`${validValue(e).value}T00:00:00+00:00`);
      if (e.kind === 'integer') expect(obs.valueInteger).toBe(e.range!.min);
    }
  });

  it('maps every answer of every coded finding to the answer coding of the table', () => {
    let n = 0;
    for (const [key, e] of entries.filter(([, x]) => x.kind === 'coded')) {
      for (const [answer, a] of Object.entries(e.answers!)) {
        const r = woman();
        r.findings = [{ code: key, value: answer }];
        const obs = observationOf(expectValidBundle(r), key)!;
        expect(obs.valueCodeableConcept).toEqual({ coding: [{ system: systemUrl(tables, a.system), code: a.code, display: a.display }] });
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
  });

  it('maps a yes/no onto the coded answer the table names for it (e.g. is_smoking false → Non-smoker)', () => {
    const r = woman();
    r.findings = [{ code: 'smoking-status', value: false }, { code: 'tb-symptom-screening', value: true }, { code: 'high-salt-intake', value: true }];
    const res = expectValidBundle(r);
    expect(observationOf(res, 'smoking-status')!.valueCodeableConcept!.coding![0]).toMatchObject({ system: 'http://snomed.info/sct', code: '8392000' });
    expect(observationOf(res, 'tb-symptom-screening')!.valueCodeableConcept!.coding![0]).toMatchObject({ code: '260347006', display: '+' });
    expect(observationOf(res, 'high-salt-intake')!.valueCodeableConcept!.coding![0]).toMatchObject({ system: 'http://loinc.org', code: 'LA33-6' });
  });

  it('codes the official examples exactly: smoking 72166-2 social-history, HIV 69668-2 LA18330-3 with RR, fetal presentation 72155-5', () => {
    const r = woman();
    r.findings = [
      { code: 'smoking-status', value: 'passive-smoker' },
      { code: 'hiv-rapid-test', value: 'reactive', interpretation: 'reactive' },
      { code: 'blood-group', value: 'A' },
    ];
    r.pregnancy = { fetalPresentation: 'cephalic' };
    const res = expectValidBundle(r);
    const smoke = observationOf(res, 'smoking-status')!;
    expect(smoke.category).toEqual([{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history', display: 'Social History' }] }]);
    expect(smoke.code.coding).toEqual([{ system: 'http://loinc.org', code: '72166-2', display: 'Tobacco smoking status' }]);
    expect(smoke.valueCodeableConcept).toEqual({ coding: [{ system: 'http://snomed.info/sct', code: '43381005', display: 'Passive smoker' }] });
    const hiv = observationOf(res, 'hiv-rapid-test')!;
    expect(hiv.valueCodeableConcept!.coding).toEqual([{ system: 'http://loinc.org', code: 'LA18330-3', display: 'HIV-1 reactive' }]);
    expect(hiv.interpretation).toEqual([{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'RR', display: 'Reactive' }] }]);
    expect(observationOf(res, 'blood-group')!.code.coding![1]).toEqual({ system: 'http://fhir.org/guides/who/anc-cds/CodeSystem/anc-custom-codes', code: 'ANC.B9.DE24', display: 'Blood type' });
    expect(observationOf(res, 'fetal-presentation')!.valueCodeableConcept!.coding).toEqual([{ system: 'http://snomed.info/sct', code: '1209182005', display: 'Cephalic fetal presentation' }]);
  });

  it('sends a repeatable finding once per entry (fetal heart rate of twins), numbered like measurements', () => {
    const r = woman();
    r.findings = [{ code: 'fetal-heart-rate', value: 142, unit: 'bpm' }, { code: 'fetal-heart-rate', value: 150, unit: '/min' }, { code: 'fetuses', value: 2 }];
    const res = expectValidBundle(r);
    const second = res.entries.find((x) => x.key === 'observation/fetal-heart-rate.2')!.resource as Observation;
    expect(second.identifier![0].value).toBe(`${r.visitId}.fetal-heart-rate.2`);
    expect(second.valueQuantity).toEqual({ value: 150, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' });
  });
});

describe('interpretation sent by the facility', () => {
  it('is mapped on a measurement and on a finding, from the interpretation table', () => {
    const r = woman();
    r.measurements.find((m: Mutable) => m.code === 'mid-upper-arm-circumference').interpretation = 'lila-normal';
    r.measurements.find((m: Mutable) => m.code === 'hemoglobin').interpretation = 'low';
    r.findings = [{ code: 'urine-protein', value: '+2', interpretation: 'abnormal' }];
    const res = expectValidBundle(r);
    const lila = res.entries.find((x) => x.key === 'observation/mid-upper-arm-circumference.1')!.resource as Observation;
    expect(lila.interpretation).toEqual([{ coding: [{ system: 'http://terminology.kemkes.go.id/CodeSystem/clinical-term', code: 'OI000013', display: 'Normal' }] }]);
    const hb = res.entries.find((x) => x.key === 'observation/hemoglobin.1')!.resource as Observation;
    expect(hb.interpretation![0].coding![0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L', display: 'Low' });
    expect(observationOf(res, 'urine-protein')!.interpretation![0].coding![0].code).toBe('A');
  });

  it('without one sent, a measurement carries only the category the adapter derives (LiLA KEK, adult BMI and BP), nothing else', () => {
    const res = mapVisit(woman(), tables, { now: NOW });
    const derivable = new Set(['mid-upper-arm-circumference', 'bmi', 'systolic-bp', 'diastolic-bp'].map((k) => `observation/${k}.1`));
    const interpreted = res.entries.filter((e) => 'interpretation' in e.resource).map((e) => e.key);
    expect(interpreted.length).toBeGreaterThan(0);
    expect(interpreted.filter((k) => !derivable.has(k))).toEqual([]);
  });
});

describe('pregnancy context', () => {
  const LMP = addDays(VISIT_DATE, -196);
  const pregnancy = {
    lmp: LMP, gestationalAgeWeeks: 28, edd: addDays(LMP, 280), gravida: 2, para: 1, abortus: 0, prePregnancyWeight: 55, fetalHeartRate: 142,
    fetalPresentation: 'cephalic', fetuses: 1, ancVisit: 'K4',
  };

  it('maps each field to the same Observation a findings[] entry of that key gives (one mapping path)', () => {
    const a = woman();
    a.pregnancy = { ...pregnancy };
    const b = woman();
    b.findings = [
      { code: 'lmp', value: LMP }, { code: 'gestational-age', value: 28, unit: 'wk' }, { code: 'edd', value: pregnancy.edd },
      { code: 'gravida', value: 2 }, { code: 'para', value: 1 }, { code: 'abortus', value: 0 }, { code: 'pre-pregnancy-weight', value: 55, unit: 'kg' },
      { code: 'fetal-heart-rate', value: 142, unit: '/min' }, { code: 'fetal-presentation', value: 'cephalic' }, { code: 'fetuses', value: 1 },
    ];
    const ra = expectValidBundle(a);
    const rb = expectValidBundle(b);
    const obs = (res: typeof ra) => res.entries.filter((e) => e.key.startsWith('observation/'));
    expect(obs(ra).map((e) => e.key).sort()).toEqual(obs(rb).map((e) => e.key).sort());
    for (const e of obs(rb)) expect(obs(ra).find((x) => x.key === e.key)!.resource).toEqual(e.resource);
    expect(observationOf(ra, 'lmp')!.valueDateTime).toBe('2026-03-25T00:00:00+00:00');
    expect(observationOf(ra, 'gestational-age')!.valueQuantity).toEqual({ value: 28, unit: 'week', system: 'http://unitsofmeasure.org', code: 'wk' });
  });

  it('puts the K number on the Encounter as its second identifier, as the official ANC Encounter', () => {
    const r = woman();
    r.pregnancy = { ...pregnancy };
    const enc = expectValidBundle(r).entries.find((e) => e.key === 'encounter')!.resource as Encounter;
    expect(enc.identifier).toEqual([
      { system: 'http://sys-ids.kemkes.go.id/encounter/10000004', value: r.visitId },
      { system: 'http://terminology.kemkes.go.id/CodeSystem/episodeofcare/ANC', value: 'K4' },
    ]);
  });

  it('warns (does not reject) when the EDD or the gestational age disagrees with the LMP beyond the tolerance', () => {
    const r = woman();
    r.pregnancy = { lmp: LMP, edd: addDays(LMP, 300), gestationalAgeWeeks: 24 };
    const res = expectValidBundle(r);
    const warnings = res.issues.filter((i) => i.severity === 'warning' && i.expression?.[0]?.startsWith('pregnancy.'));
    expect(warnings.map((w) => w.expression![0]).sort()).toEqual(['pregnancy.edd', 'pregnancy.gestationalAgeWeeks']);
    expect(warnings.find((w) => w.expression![0] === 'pregnancy.edd')!.diagnostics).toMatch(/20 days after LMP \+ 280 days/);
    expect(warnings.find((w) => w.expression![0] === 'pregnancy.gestationalAgeWeeks')!.diagnostics).toMatch(/differs from the 28 weeks since the LMP by more than 2 weeks/);
    // within the tolerance: no warning
    const ok = woman();
    ok.pregnancy = { lmp: LMP, edd: addDays(LMP, 290), gestationalAgeWeeks: 27 };
    expect(expectValidBundle(ok).issues.filter((i) => i.expression?.[0]?.startsWith('pregnancy.'))).toEqual([]);
  });
});

describe('bad findings and pregnancy values are rejected at their field', () => {
  function errorsOf(record: unknown): Issue[] {
    const res = mapVisit(record, tables, { now: NOW });
    const errors = res.issues.filter((i) => i.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(res.bundle).toBeUndefined();
    expect(checkVisit(record, tables, { now: NOW })).toEqual(res.issues);
    for (const e of res.issues) for (const p of PRIVATE) expect(e.diagnostics).not.toContain(p);
    return errors;
  }
  function expectError(record: unknown, expression: string, text: RegExp): void {
    const errors = errorsOf(record);
    const hit = errors.filter((e) => e.expression?.[0] === expression);
    expect({ expression, found: hit.length, all: errors.map((e) => e.expression?.[0]) }).toEqual({ expression, found: 1, all: expect.anything() });
    expect(hit[0].diagnostics).toMatch(text);
  }
  const withFindings = (...findings: Mutable[]) => ({ ...woman(), findings });
  const withPregnancy = (p: Mutable, patch: Mutable = {}) => ({ ...woman(), ...patch, pregnancy: p });

  it('an unknown finding, listing the known ones', () => {
    expectError(withFindings({ code: 'smoking-status', value: 'smoker' }, { code: 'skrining-jiwa', value: 'x' }, { code: 'gravida', value: 2 }, { code: 'rhesus', value: 'positive' }),
      'findings[1].code', /'skrining-jiwa' is not a known finding; use one of tb-symptom-screening, smoking-status, .*fetal-presentation/);
  });

  it('an answer outside the value set, listing the allowed answers', () => {
    expectError(withFindings({ code: 'blood-group', value: 'C' }), 'findings[0].value', /'C' is not an answer of blood-group; use one of A, B, AB, O$/);
    expectError(withFindings({ code: 'tb-symptom-screening', value: 'positif' }), 'findings[0].value', /use one of bukan-terduga, kontak-erat, terduga \(or true\/false\)/);
    expectError(withPregnancy({ fetalPresentation: 'kepala' }), 'pregnancy.fetalPresentation', /not an answer of fetal-presentation; use one of cephalic, breech/);
  });

  it('a value of the wrong kind', () => {
    expectError(withFindings({ code: 'gravida', value: 'dua' }), 'findings[0].value', /must be a whole number for gravida/);
    expectError(withFindings({ code: 'gravida', value: 2.5 }), 'findings[0].value', /must be a whole number for gravida/);
    expectError(withFindings({ code: 'blood-group', value: true }), 'findings[0].value', /must be one of its answers, not true\/false: A, B, AB, O/);
    expectError(withFindings({ code: 'smoking-status', value: 3 }), 'findings[0].value', /must be one of its answers \(or true\/false\): smoker/);
    expectError(withFindings({ code: 'lmp', value: '2026-02-30' }), 'findings[0].value', /must be a date as YYYY-MM-DD \(a real calendar date\) for lmp/);
    expectError(withFindings({ code: 'gestational-age', value: 'dua puluh' , unit: 'wk' }), 'findings[0].value', /must be a number in week for gestational-age/);
    expectError(withFindings({ code: 'gestational-age', value: 20 }), 'findings[0].unit', /is required for gestational-age; use one of wk, week, weeks, minggu/);
    expectError(withFindings({ code: 'rhesus', value: 'positive', unit: 'cm' }), 'findings[0].unit', /only for findings with a number and unit/);
    expectError(withFindings({ code: 'gravida', value: { n: 2 } }), 'findings[0].value', /must be an answer key or date \(text\), a number, or true\/false/);
  });

  it('a value out of range', () => {
    expectError(withFindings({ code: 'fetal-heart-rate', value: 14, unit: '/min' }), 'findings[0].value', /14 is outside the plausible range for fetal-heart-rate \(50–240 beats\/minute\)/);
    expectError(withFindings({ code: 'gravida', value: 0 }), 'findings[0].value', /outside the plausible range for gravida \(1–20\)/);
    expectError(withPregnancy({ gestationalAgeWeeks: 46 }), 'pregnancy.gestationalAgeWeeks', /46 is outside the plausible range for gestational-age \(0–45 week\)/);
    expectError(withPregnancy({ gestationalAgeWeeks: -1 }), 'pregnancy.gestationalAgeWeeks', /outside the plausible range/);
  });

  it('an LMP in the future, or more than 45 weeks before the visit', () => {
    expectError(withPregnancy({ lmp: addDays(VISIT_DATE, 1) }), 'pregnancy.lmp', /pregnancy\.lmp is after the visit date: lmp cannot lie in the future/);
    expectError(withPregnancy({ lmp: addDays(VISIT_DATE, -316) }), 'pregnancy.lmp', /316 days before the visit date; at most 315 days \(45 weeks\)/);
    expectError(withFindings({ code: 'lmp', value: addDays(VISIT_DATE, 3) }), 'findings[0].value', /after the visit date/);
    expect(errorsOnly(checkVisit(withPregnancy({ lmp: addDays(VISIT_DATE, -315) }), tables, { now: NOW }))).toEqual([]);
  });

  it('an unknown interpretation, on a finding and on a measurement', () => {
    expectError(withFindings({ code: 'rhesus', value: 'positive', interpretation: 'bagus' }), 'findings[0].interpretation', /'bagus' is not a known interpretation; use one of normal, low, high/);
    const r = woman();
    r.measurements[0].interpretation = 'constructor';
    expectError(r, 'measurements[0].interpretation', /not a known interpretation/);
  });

  it('para + abortus above gravida', () => {
    expectError(withPregnancy({ gravida: 2, para: 2, abortus: 1 }), 'pregnancy.para', /para \(2\) \+ abortus \(1\) is more than gravida \(2\)/);
    expectError(withFindings({ code: 'gravida', value: 1 }, { code: 'abortus', value: 2 }), 'findings[1].value', /more than gravida/);
  });

  it('a pregnancy for a male patient or outside plausible ages, and a women-only finding for a male patient', () => {
    const male = woman();
    male.patient.gender = 'male';
    expectError({ ...male, pregnancy: { gravida: 1 } }, 'pregnancy', /only for a female patient/);
    expectError({ ...male, findings: [{ code: 'pregnancy-status', value: 'pregnant' }] }, 'findings[0].code', /pregnancy-status is recorded for women only/);
    const old = woman();
    old.patient.birthDate = '1960-01-01';
    expectError({ ...old, pregnancy: { gravida: 1 } }, 'pregnancy', /only plausible for a patient aged 10–55 years/);
  });

  it('a K number that is unknown or at a setting that does not count ANC visits', () => {
    expectError(withPregnancy({ ancVisit: 'K7' }), 'pregnancy.ancVisit', /'K7' is not an ANC visit number; use one of K1A, K1M, K2, K3, K4, K5, K6/);
    expectError(withPregnancy({ ancVisit: 'K2' }, { setting: 'posyandu' }), 'pregnancy.ancVisit', /only for an ANC visit at puskesmas, pustu; this visit's setting is posyandu/);
  });

  it('a finding sent twice (unless repeatable), and a value typed from a NIK is not echoed', () => {
    expectError(withPregnancy({ gravida: 2 }, { findings: [{ code: 'gravida', value: 2 }] }), 'pregnancy.gravida', /gravida is already given at findings\[0\]\.code/);
    expectError(withFindings({ code: 'blood-group', value: '7371045709980002' }), 'findings[0].value', /the value given is not an answer of blood-group/);
    expectError(withFindings({ code: 'fetal-heart-rate', value: 7371045709980002, unit: '/min' }), 'findings[0].value', /the value given is outside the plausible range/);
  });

  it('an unknown pregnancy field is refused by the contract', () => {
    expectError(withPregnancy({ hpht: '2026-03-01' }), 'pregnancy', /unknown field at pregnancy/);
  });
});

describe('a new finding is a table edit', () => {
  it('maps a finding that exists only in an in-memory copy of the tables (a boolean, as the official rabies example sends one)', () => {
    const copy: MappingTables = {
      ...tables,
      findings: {
        ...tables.findings,
        systems: { ...tables.findings.systems, kemkes: { url: 'http://terminology.kemkes.go.id', confidence: 'OFF', source: 'test' } },
        entries: {
          ...tables.findings.entries,
          'rabies-provoked': {
            display: 'Hewan penular rabies diprovokasi', code: [{ system: 'kemkes', code: 'TK000123', display: 'Hewan Penular Rabies Diprovokasi' }],
            category: ['survey'], kind: 'boolean', confidence: 'OFF', source: 'test: Observation-PenyebabHewanMenggigit.json',
          },
        },
      },
    };
    expect(checkTables(copy)).toEqual([]);
    const r = woman();
    r.findings = [{ code: 'rabies-provoked', value: false }];
    const res = mapVisit(r, copy, { now: NOW });
    expect(errorsOnly(res.issues)).toEqual([]);
    const obs = observationOf(res, 'rabies-provoked')!;
    expect(obs.code.coding).toEqual([{ system: 'http://terminology.kemkes.go.id', code: 'TK000123', display: 'Hewan Penular Rabies Diprovokasi' }]);
    expect(obs.valueBoolean).toBe(false);
    expect(obs.category![0].coding![0].code).toBe('survey');
    // the shipped tables are untouched: the same record is rejected there
    expect(checkVisit(r, tables, { now: NOW }).map((i) => i.expression![0])).toEqual(['findings[0].code']);
    r.findings = [{ code: 'rabies-provoked', value: 'ya' }];
    expect(checkVisit(r, copy, { now: NOW }).map((i) => [i.expression![0], i.diagnostics])).toEqual([['findings[0].value', 'findings[0].value must be true or false for rabies-provoked']]);
  });

  it('the loader rejects a finding with an unknown system or category, a bad boolean mapping, a missing range and a key that is a measurement key', () => {
    const broken: MappingTables = {
      ...tables,
      findings: {
        ...tables.findings,
        entries: {
          ...tables.findings.entries,
          'x-coded': { display: 'x', code: [{ system: 'nowhere', code: '1' }], category: ['vitals'], kind: 'coded', answers: { a: { system: 'snomed', code: '1', confidence: 'UNV', source: 's' } }, boolean: { true: 'a', false: 'b' }, confidence: 'UNV', source: 's' },
          'x-int': { display: 'x', code: [{ system: 'loinc', code: '1' }], category: ['survey'], kind: 'integer', confidence: 'UNV', source: 's' },
          'body-weight': { display: 'x', code: [{ system: 'loinc', code: '1' }], category: ['survey'], kind: 'date', dateRange: { minDays: 0, maxDays: 1 }, confidence: 'maybe' as never, source: 's' },
        },
      },
    };
    const problems = checkTables(broken).join('\n');
    expect(problems).toMatch(/findings\.json x-coded code\[0\]: system "nowhere" is not a key of findings\.json systems/);
    expect(problems).toMatch(/findings\.json x-coded: category "vitals" is not in systems\.json/);
    expect(problems).toMatch(/findings\.json x-coded: boolean\.true and boolean\.false must be answer keys/);
    expect(problems).toMatch(/findings\.json x-int: range needs min < max/);
    expect(problems).toMatch(/findings\.json body-weight: the key is also a measurement key/);
    expect(problems).toMatch(/findings\.json body-weight: confidence must be one of/);
  });
});

describe('diagnosis of an ANC visit that sends its pregnancy context', () => {
  it('is Z34.9 even without fundal height, and its blood pressure, glucose and Hb are not counted as PTM screening', () => {
    const r = woman();
    r.measurements = r.measurements.filter((m: Mutable) => m.code !== 'fundal-height');
    r.measurements.push({ code: 'blood-glucose-random', value: 96, unit: 'mg/dL' });
    const codes = (x: unknown) => mapVisit(x, tables, { now: NOW }).entries.filter((e) => e.key.startsWith('condition/')).map((e) => (e.resource as Condition).code!.coding![0].code);
    // Td given at the visit: Z27.8 in the immunization slot either way
    expect(codes(r)).toEqual(['Z13.6', 'Z13.1', 'Z13.0', 'Z27.8']);
    r.pregnancy = { lmp: addDays(VISIT_DATE, -150), gestationalAgeWeeks: 21 };
    expect(codes(r)).toEqual(['Z34.9', 'Z27.8']);
  });

  it('the loader rejects a rule naming a finding the table does not know', () => {
    const broken: MappingTables = {
      ...tables,
      diagnoses: { ...tables.diagnoses, rules: [...tables.diagnoses.rules, { id: 'x', slot: 'child', when: { findingsAny: ['shoe-size'] }, code: 'Z00.1', confidence: 'UNV', source: 's' }] },
    };
    expect(checkTables(broken).join('\n')).toMatch(/rules\[\d+\] \(x\): finding "shoe-size" is not in findings\.json/);
  });
});

describe('records without findings map as before', () => {
  const changed = samples.filter((s) => s.record.findings || s.record.pregnancy || s.record.measurements?.some((m) => m.interpretation));

  it.each(changed.map((s) => [s.name, s] as const))('%s without its findings, pregnancy and interpretations gives its golden Bundle minus exactly those', (_name, s) => {
    const golden = JSON.parse(readFileSync(s.goldenPath, 'utf8')) as Bundle;
    const plain = structuredClone(s.record) as Mutable;
    const findingKeys = new Set([...(plain.findings ?? []).map((f: Mutable) => f.code),
      ...Object.entries(tables.findings.pregnancy.fields).filter(([field]) => plain.pregnancy?.[field] !== undefined).map(([, k]) => k)]);
    delete plain.findings;
    delete plain.pregnancy;
    for (const m of plain.measurements ?? []) delete m.interpretation;
    const expected = structuredClone(golden);
    expected.entry = expected.entry!.filter((e) => {
      const id = (e.resource as Observation).identifier?.[0]?.value ?? '';
      return !(e.resource!.resourceType === 'Observation' && [...findingKeys].some((k) => id.startsWith(`${s.record.visitId}.${k}.`)));
    });
    // A measurement's interpretation is the facility's or, without one, the adapter's derived category: compared without it.
    const measured = new Set((s.record.measurements ?? []).map((m) => m.code));
    const isMeasurement = (e: BundleEntry) => [...measured].some((k) => ((e.resource as Observation).identifier?.[0]?.value ?? '').startsWith(`${s.record.visitId}.${k}.`));
    const actual = mapVisit(plain, tables, { now: NOW }).bundle!;
    for (const e of actual.entry!) if (isMeasurement(e)) delete (e.resource as Observation).interpretation;
    for (const e of expected.entry) {
      if (isMeasurement(e)) delete (e.resource as Observation).interpretation;
      if (e.resource!.resourceType === 'Encounter') (e.resource as Encounter).identifier = (e.resource as Encounter).identifier!.slice(0, 1);
    }
    expect(expected.entry.length).toBeLessThan(golden.entry!.length);
    expect(actual).toEqual(expected);
  });
});

describe('the sandbox checklist', () => {
  it('lists the unofficial findings, answers and interpretations with their codes, and no official one', () => {
    const list = unconfirmedValues(tables);
    const at = (path: string) => list.find((u) => u.path === path);
    expect(at('findings.entries.tb-symptom-screening')).toMatchObject({ confidence: 'UNV', value: '171126009' });
    expect(at('findings.entries.hbsag-rapid-test')).toMatchObject({ confidence: 'UNV', value: '5196-1' });
    expect(at('findings.entries.tb-symptom-screening.answers.kontak-erat')).toMatchObject({ confidence: 'UNV', value: 'Z20.1' });
    expect(at('findings.interpretations.kek')).toMatchObject({ confidence: 'OFF-draft', value: 'OI000018' });
    expect(at('findings.pregnancy.ancVisit.values.K4')).toMatchObject({ confidence: 'COM' });
    expect(at('findings.entries.gravida')).toBeUndefined();
    expect(at('findings.entries.smoking-status.answers.smoker')).toBeUndefined();
  });
});
