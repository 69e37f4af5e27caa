// Bad source records: each case asserts the exact source `expression`, that the message says what is expected, that nothing is mapped,
// and that no NIK, name or phone number is echoed.
import { checkVisit, mapVisit, type VisitRecord } from '../../src/mapping/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import { NOW, sample, tables } from './helpers.js';

type Mutable = Record<string, any>;

const base = () => sample('infant-posyandu-immunization') as unknown as Mutable;
const PRIVATE = ['3273010508260001', 'Muhammad Rafi Pratama', '081234567890', '3273016203950004', 'Rina Marlina'];

function errorsOf(record: unknown): Issue[] {
  const res = mapVisit(record, tables, { now: NOW });
  const errors = res.issues.filter((i) => i.severity === 'error');
  expect(errors.length).toBeGreaterThan(0);
  expect(res.bundle).toBeUndefined();
  expect(res.entries).toEqual([]);
  expect(checkVisit(record, tables, { now: NOW })).toEqual(res.issues);
  for (const e of res.issues) for (const p of PRIVATE) expect(e.diagnostics).not.toContain(p);
  return errors;
}

/** The one error at `expression`, whose message must match `text`. */
function expectError(record: unknown, expression: string, text: RegExp, rule?: string): Issue {
  const errors = errorsOf(record);
  const hit = errors.filter((e) => e.expression?.[0] === expression);
  expect({ expression, found: hit.length, all: errors.map((e) => e.expression?.[0]) }).toEqual({ expression, found: 1, all: expect.anything() });
  expect(hit[0].diagnostics).toMatch(text);
  if (rule) {
    expect(hit[0].rule).toBe(rule);
    expect(hit[0].diagnostics).toContain(`(RuleNumber: ${rule})`);
  }
  return hit[0];
}

describe('measurements', () => {
  it('rejects an unknown measurement code and lists the known ones', () => {
    const r = base();
    r.measurements[2].code = 'lingkar-betis';
    const e = expectError(r, 'measurements[2].code', /'lingkar-betis' is not a known measurement; use one of body-weight, .*fundal-height/);
    expect(e.code).toBe('code-invalid');
  });

  it('rejects a unit the key does not accept, naming the accepted ones', () => {
    const r = base();
    r.measurements[0].unit = 'lbs';
    expectError(r, 'measurements[0].unit', /^unit 'lbs' is not accepted for body-weight; use one of kg, g, gram$/);
  });

  it('rejects a value outside the plausible range (a typo such as 720 for 72.0 kg)', () => {
    const r = base();
    r.measurements[0] = { code: 'body-weight', value: 720, unit: 'kg' };
    expectError(r, 'measurements[0].value', /720 kg is outside the plausible range for body-weight \(0\.3–350 kg\)/);
  });

  it('checks the range after unit conversion (52 g is not a body weight)', () => {
    const r = base();
    r.measurements[0] = { code: 'body-weight', value: 52, unit: 'g' };
    expectError(r, 'measurements[0].value', /52 g \(= 0\.052 kg\) is outside the plausible range/);
  });

  it('rejects a value given as text', () => {
    const r = base();
    r.measurements[1].value = '57.5';
    expectError(r, 'measurements[1].value', /^measurements\[1\]\.value must be a number \(not text\)$/);
  });

  it('rejects a measurement time outside the visit', () => {
    const r = base();
    r.measurements[0].at = '2026-10-05T11:00:00+07:00';
    expectError(r, 'measurements[0].at', /must lie within the visit/);
  });

  it('requires code, value and unit', () => {
    const r = base();
    delete r.measurements[1].unit;
    expectError(r, 'measurements[1].unit', /^measurements\[1\]\.unit is required$/);
  });

  it('rejects a huge measurements array with one issue, before schema validation', () => {
    const r = base();
    r.measurements = Array.from({ length: 100_000 }, () => ({ code: 'body-weight', value: 5, unit: 'kg' }));
    const errors = errorsOf(r);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'too-costly', expression: ['measurements'] });
    expect(errors[0].diagnostics).toBe('measurements has 100000 entries; at most 200 are accepted per visit');
  });

  it('caps the number of issues reported for one record', () => {
    const r = base();
    r.measurements = Array.from({ length: 150 }, () => ({ code: 'x', value: 'y', unit: 1 }));
    const errors = errorsOf(r);
    expect(errors).toHaveLength(51);
    expect(errors[50].diagnostics).toMatch(/further problems not listed/);
  });
});

describe('times', () => {
  it('rejects a time without its offset', () => {
    const r = base();
    r.start = '2026-10-05T08:30:00';
    expectError(r, 'start', /^start must be a date-time with its UTC offset \(from -12:00 to \+14:00\), e\.g\. 2026-10-05T08:30:00\+07:00$/);
  });

  it('rejects a time in the future (after opts.now)', () => {
    const r = base();
    r.end = '2026-11-01T07:00:01+07:00';
    expectError(r, 'end', /in the future/);
    r.end = '2026-11-01T07:00:00+07:00'; // exactly now: accepted
    expect(checkVisit(r, tables, { now: NOW })).toEqual([]);
  });

  it('rejects a time before 2022-08-31 instead of changing it', () => {
    const r = base();
    r.start = '2022-08-30T08:00:00+07:00';
    r.end = '2022-08-30T09:00:00+07:00';
    r.patient.birthDate = '2022-06-01';
    r.immunizations = [];
    const errors = errorsOf(r);
    expect(errors.map((e) => e.expression![0])).toEqual(['start', 'end']);
    expect(errors[0].diagnostics).toMatch(/before 2022-08-31/);
  });

  it('compares the 2022-08-31 limit in UTC', () => {
    const r = base();
    r.start = '2022-08-31T06:59:00+07:00'; // 2022-08-30T23:59Z
    r.end = '2022-08-31T08:00:00+07:00';
    r.patient.birthDate = '2022-06-01';
    r.immunizations = [];
    expectError(r, 'start', /before 2022-08-31/);
  });

  it('rejects an end before (or equal to) the start, with rule 10121', () => {
    const r = base();
    r.end = '2026-10-05T08:00:00+07:00';
    expectError(r, 'end', /end must be after start/, '10121');
    r.end = r.start;
    expectError(r, 'end', /end must be after start/, '10121');
  });

  it('rejects an impossible calendar date', () => {
    const r = base();
    r.start = '2026-02-30T08:30:00+07:00';
    expectError(r, 'start', /not a real date-time/);
  });

  it('rejects a birth date after the visit', () => {
    const r = base();
    r.patient.birthDate = '2026-10-06';
    expectError(r, 'patient.birthDate', /after the visit date/);
  });
});

describe('patient and practitioner', () => {
  it('rejects a 15-digit NIK without echoing it', () => {
    const r = base();
    r.patient.nik = '327301050826000';
    const e = expectError(r, 'patient.nik', /^patient\.nik must be a NIK of exactly 16 digits$/);
    expect(e.diagnostics).not.toContain('327301050826000');
  });

  it('needs nik, or motherNik with birthOrder', () => {
    const r = base();
    delete r.patient.nik;
    expectError(r, 'patient', /^patient needs either nik, or motherNik and birthOrder/);
    r.patient.motherNik = '3273016203950004';
    expectError(r, 'patient', /needs either nik, or motherNik and birthOrder/);
    r.patient.birthOrder = 1;
    expect(checkVisit(r, tables, { now: NOW })).toEqual([]);
  });

  it('needs the practitioner ihsNumber or nik', () => {
    const r = base();
    r.practitioner = { name: 'Sheila' };
    expectError(r, 'practitioner', /needs ihsNumber or nik/);
  });

  it('reports missing required fields at their path', () => {
    const r = base();
    delete r.visitId;
    delete r.patient.name;
    delete r.patient.address.rw;
    const errors = errorsOf(r);
    expect(errors.map((e) => e.expression![0]).sort()).toEqual(['patient.address.rw', 'patient.name', 'visitId']);
    expect(errors.find((e) => e.expression![0] === 'patient.name')!.diagnostics).toBe('patient.name is required');
  });

  it('rejects an unknown (misspelt) field, at top level and nested', () => {
    const r = base();
    r.patient.nama = 'x';
    r.lokasi = 'x';
    // Located at the parent and by position, never by the key itself (it may be data typed as a key).
    const e = expectError(r, 'patient', /^unknown field at patient \(field \d+ there, not in the contract; its name is not shown\); allowed fields: nik, motherNik, /);
    expect(e.code).toBe('structure');
    const top = errorsOf(r).filter((x) => x.expression === undefined);
    expect(top.map((x) => x.diagnostics)).toEqual([expect.stringMatching(/^unknown field at the top level of the record \(field \d+ there, not in the contract/)]);
    expect(JSON.stringify(errorsOf(r))).not.toMatch(/nama|lokasi/);
  });

  it('rejects a setting outside the enum, listing the allowed ones', () => {
    const r = base();
    r.setting = 'klinik';
    expectError(r, 'setting', /^setting must be one of puskesmas, pustu, posyandu, home-visit$/);
  });

  it('rejects administrative codes that do not nest', () => {
    const r = base();
    r.patient.address.villageCode = '3273021001';
    expectError(r, 'patient.address.villageCode', /must start with the district code/);
  });

  it('does not echo a NIK, name or phone number typed into a code or unit field', () => {
    const r = base();
    r.measurements[0].unit = '3273010508260001';
    r.measurements[1].code = 'Muhammad Rafi Pratama';
    r.measurements[2].unit = '081234567890';
    const errors = errorsOf(r);
    expect(errors.map((e) => e.expression![0])).toEqual(['measurements[0].unit', 'measurements[1].code', 'measurements[2].unit']);
  });

  it('does not echo a NIK typed into a value, nor a NIK or name used as a field name (diagnostics and expression)', () => {
    const r = base();
    r.measurements[0] = { code: 'body-weight', value: 3273010508260001, unit: 'kg' };
    const e = expectError(r, 'measurements[0].value', /outside the plausible range for body-weight/);
    expect(e.diagnostics).not.toContain('3273010508260001');
    const r2 = base();
    r2.patient['3273010508260001'] = true;
    r2['Muhammad Rafi Pratama'] = '081234567890';
    const errors = errorsOf(r2);
    // An unsafe key is located at its parent object (the record itself has no expression).
    expect(errors.map((x) => x.expression?.[0] ?? '(record)').sort()).toEqual(['(record)', 'patient']);
    expect(JSON.stringify(errors)).not.toMatch(/3273010508260001|Muhammad|081234567890/);
    // Not even a plain misspelt field is named (a one-word name such as 'Budi' looks just like one).
    const misspelt = errorsOf({ ...base(), visitID: 'x' });
    expect(misspelt.map((x) => x.expression)).toEqual([undefined]);
    expect(JSON.stringify(misspelt)).not.toContain('visitID');
  });

  it('answers a record that is not an object with one error and no crash', () => {
    for (const bad of [null, [], 'visit', 42]) {
      const errors = errorsOf(bad);
      expect(errors).toHaveLength(1);
      expect(errors[0].diagnostics).toBe('the record must be an object');
      expect(errors[0].expression).toBeUndefined();
    }
  });
});

describe('immunizations', () => {
  it('requires lotNumber (10306) and expirationDate (10307) for a vaccine given at the visit', () => {
    const r = base();
    delete r.immunizations[0].lotNumber;
    expectError(r, 'immunizations[0].lotNumber', /lotNumber is required for a vaccine given at this visit/, '10306');
    const r2 = base();
    delete r2.immunizations[1].expirationDate;
    expectError(r2, 'immunizations[1].expirationDate', /expirationDate is required/, '10307');
  });

  it('rejects an expirationDate not after the occurrence', () => {
    const r = base();
    r.immunizations[0].expirationDate = '2026-10-05';
    expectError(r, 'immunizations[0].expirationDate', /must be after the date the vaccine was given/, '10307');
  });

  it('does not require lot or expiry for a recalled dose', () => {
    const r = base();
    r.immunizations = [{ vaccine: 'BCG', dose: 1, status: 'completed', source: 'recall', givenAt: '2026-08-20T09:00:00+07:00' }];
    expect(checkVisit(r, tables, { now: NOW })).toEqual([]);
  });

  it('rejects an unknown vaccine, naming the known ones', () => {
    const r = base();
    r.immunizations[1].vaccine = 'Polio';
    expectError(r, 'immunizations[1].vaccine', /'Polio' is not a known vaccine; use one of HB0, BCG, OPV, IPV, DPT-HB-Hib, DPT-HB-Hib-IPV, PCV, RV, MR, JE, DT, Td, HPV$/);
  });

  it('rejects a dose above the last dose of the series', () => {
    const r = base();
    r.immunizations[2].dose = 4;
    expectError(r, 'immunizations[2].dose', /dose 4 is above the last dose of PCV \(3\)/);
  });

  it('rejects a dose given as text', () => {
    const r = base();
    r.immunizations[0].dose = '1';
    expectError(r, 'immunizations[0].dose', /must be a whole number/);
  });

  it('rejects a KFA product that is not one of the vaccine', () => {
    const r = base();
    r.immunizations[0].productCode = '93005208';
    expectError(r, 'immunizations[0].productCode', /'93005208' is not a KFA product of DPT-HB-Hib; use one of 93001282, 93001283, 93001284/);
  });

  it('requires notDoneReason for not-done and rejects lot details there', () => {
    const r = base();
    r.immunizations[0].status = 'not-done';
    const errors = errorsOf(r);
    expect(errors.map((e) => e.expression![0])).toEqual([
      'immunizations[0].notDoneReason', 'immunizations[0].productCode', 'immunizations[0].lotNumber', 'immunizations[0].expirationDate',
    ]);
    expect(errors[0].rule).toBe('10108');
  });

  it('rejects notDoneReason on a completed dose', () => {
    const r = base();
    r.immunizations[0].notDoneReason = 'postponed';
    expectError(r, 'immunizations[0].notDoneReason', /only for status not-done/);
  });

  it('rejects the same dose twice in one visit', () => {
    const r = base();
    r.immunizations.push({ ...r.immunizations[1] });
    expectError(r, 'immunizations[4].dose', /repeats dose 2 of OPV/);
  });

  it('rejects an administered dose given outside the visit, and a recalled dose before birth', () => {
    const r = base();
    r.immunizations[0].givenAt = '2026-10-04T08:50:00+07:00';
    expectError(r, 'immunizations[0].givenAt', /must lie within the visit/);
    const r2 = base();
    r2.immunizations = [{ vaccine: 'BCG', dose: 1, status: 'completed', source: 'recall', givenAt: '2026-08-01T09:00:00+07:00' }];
    expectError(r2, 'immunizations[0].givenAt', /before the patient's birth date/);
  });

  it('rejects a huge immunizations array cleanly', () => {
    const r = base();
    r.immunizations = Array.from({ length: 5000 }, () => r.immunizations[0]);
    const errors = errorsOf(r);
    expect(errors).toEqual([expect.objectContaining({ expression: ['immunizations'], code: 'too-costly' })]);
  });
});

describe('valid records', () => {
  it('accepts a minimal record: no measurements, no immunizations, Z offset (the diagnosis is the catch-all)', () => {
    const r = base() as Mutable;
    delete r.measurements;
    delete r.findings;
    delete r.immunizations;
    delete r.kader;
    r.start = '2026-10-05T01:30:00Z';
    r.end = '2026-10-05T02:00:00Z';
    const res = mapVisit(r as VisitRecord, tables, { now: NOW });
    expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(res.bundle!.entry!.map((e) => e.resource!.resourceType)).toEqual(['Patient', 'Encounter', 'Condition']);
  });
});
