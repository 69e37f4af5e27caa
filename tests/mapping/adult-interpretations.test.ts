import type { Observation } from 'fhir/r4.js';
import { checkTables, mapVisit, type VisitRecord } from '../../src/mapping/index.js';
import { checkGrowthStatus } from '../../src/growth/status-table.js';
import { createValidator } from '../../src/validation/index.js';
import { NOW, sample, tables } from './helpers.js';

const observation = (r: VisitRecord, code: string): Observation =>
  mapVisit(r, tables, { now: NOW }).entries.find((e) => e.key === `observation/${code}.1`)!.resource as Observation;
const interpretationCode = (r: VisitRecord, code: string) => observation(r, code).interpretation?.[0]?.coding?.[0]?.code;

describe('interpretations the adapter derives for adults', () => {
  it('LiLA of a woman of childbearing age: KEK below 23.5 cm (exclusive), normal from 23.5', () => {
    const r = sample('wus-td-catin');
    const lila = r.measurements!.find((m) => m.code === 'mid-upper-arm-circumference')!;
    delete lila.interpretation;
    lila.value = 23.4;
    lila.unit = 'cm';
    expect(interpretationCode(r, 'mid-upper-arm-circumference')).toBe('OI000018');
    lila.value = 23.5;
    expect(interpretationCode(r, 'mid-upper-arm-circumference')).toBe('OI000013');
    expect(observation(r, 'mid-upper-arm-circumference').interpretation![0]!.text).toBe('Normal');
  });

  it('no KEK for a man, a girl under 15 who is not pregnant, or a woman of 50', () => {
    const base = sample('wus-td-catin');
    base.measurements!.find((m) => m.code === 'mid-upper-arm-circumference')!.value = 21;
    expect(interpretationCode({ ...base, patient: { ...base.patient, gender: 'male' } }, 'mid-upper-arm-circumference')).toBeUndefined();
    expect(interpretationCode({ ...base, patient: { ...base.patient, birthDate: '1975-01-01' } }, 'mid-upper-arm-circumference')).toBeUndefined();
    const girl = { ...base, patient: { ...base.patient, birthDate: '2013-06-01' } };
    expect(interpretationCode(girl, 'mid-upper-arm-circumference')).toBeUndefined();
    // A pregnant adolescent is screened for KEK at her ANC visit.
    expect(interpretationCode({ ...girl, pregnancy: { gravida: 1 } }, 'mid-upper-arm-circumference')).toBe('OI000018');
  });

  it("the facility's own interpretation wins over the derived one", () => {
    const r = sample('wus-td-catin');
    const lila = r.measurements!.find((m) => m.code === 'mid-upper-arm-circumference')!;
    lila.value = 21;
    lila.interpretation = 'lila-normal';
    expect(interpretationCode(r, 'mid-upper-arm-circumference')).toBe('OI000013');
  });

  it('adult BMI and blood pressure categories, each reading on its own scale', () => {
    const r = sample('adult-ptm-screening');
    const set = (code: string, value: number) => {
      const m = r.measurements!.find((x) => x.code === code)!;
      m.value = value;
      delete m.interpretation;
    };
    set('bmi', 30.2);
    set('systolic-bp', 118);
    set('diastolic-bp', 92);
    r.measurements = r.measurements!.filter((m, i, all) => all.findIndex((x) => x.code === m.code) === i); // one reading
    const bmi = observation(r, 'bmi');
    expect(bmi.interpretation![0]!.text).toMatch(/gemuk|obes/i);
    expect(observation(r, 'systolic-bp').interpretation![0]!.text).toBe('Normal');
    expect(observation(r, 'diastolic-bp').interpretation![0]!.text).toBe('Hipertensi derajat 1');
    // Removing or correcting one reading never changes the other's interpretation.
    set('diastolic-bp', 70);
    expect(observation(r, 'diastolic-bp').interpretation![0]!.text).toBe('Normal');
    r.measurements = r.measurements!.filter((m) => m.code !== 'diastolic-bp');
    expect(observation(r, 'systolic-bp').interpretation![0]!.text).toBe('Normal');
    set('systolic-bp', 165);
    expect(observation(r, 'systolic-bp').interpretation![0]!.text).toBe('Hipertensi derajat 2');
  });

  it('no adult categories for a child (z-scores instead) and every derived interpretation validates', () => {
    const child = sample('school-screening-bias');
    for (const code of ['bmi', 'systolic-bp']) {
      if (child.measurements!.some((m) => m.code === code)) expect(interpretationCode(child, code)).toBeUndefined();
    }
    const validator = createValidator();
    for (const name of ['adult-ptm-screening', 'wus-td-catin', 'pregnant-anc', 'elderly-screening']) {
      const bundle = mapVisit(sample(name), tables, { now: NOW }).bundle!;
      expect({ name, errors: validator.validate(bundle, { now: NOW }).filter((i) => i.severity === 'error') }).toEqual({ name, errors: [] });
    }
  });
});

describe('the adult schemes come from growth-status.json', () => {
  it('a measurement key the observations table does not know, or an age range without fromYears, is refused at load', () => {
    const status = structuredClone(tables.growth.status);
    status.adult.bmi.measurement = 'imt-dewasa';
    (status.adult.kek.applies as { fromYears?: number }).fromYears = undefined;
    const problems = checkTables({ ...tables, growth: { ...tables.growth, status } }).join('\n');
    expect(problems).toMatch(/adult: measurement "imt-dewasa" is not in observations\.json/);
    expect(checkGrowthStatus(status).join('\n')).toMatch(/adult\.kek\.applies: needs fromYears/);
  });

  it('the ages in the table decide: moving the adult BMI age to 20 drops the category of a 19-year-old', () => {
    const r = sample('adult-ptm-screening');
    r.patient.birthDate = '2007-06-01'; // 19 at the 2026-10 visit
    r.measurements!.forEach((m) => delete m.interpretation);
    expect(interpretationCode(r, 'bmi')).toBeDefined();
    const status = structuredClone(tables.growth.status);
    status.adult.bmi.applies.fromYears = 20;
    const res = mapVisit(r, { ...tables, growth: { ...tables.growth, status } }, { now: NOW });
    expect((res.entries.find((e) => e.key === 'observation/bmi.1')!.resource as Observation).interpretation).toBeUndefined();
  });
});
