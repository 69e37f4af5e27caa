// Bad growth fields of a source record: each is rejected at its source field with a message that says what is expected.
import { mapVisit } from '../../src/mapping/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import { NOW, sample, tables } from '../mapping/helpers.js';

type Mutable = Record<string, any>;
const toddler = () => sample('toddler-growth-monitoring') as unknown as Mutable; // girl, 647 days at the visit
const PRIVATE = ['3273016712240003', 'Aisyah Putri Ramadhani'];

function errorAt(record: unknown, expression: string, text: RegExp): Issue {
  const res = mapVisit(record, tables, { now: NOW });
  expect(res.bundle).toBeUndefined();
  const errors = res.issues.filter((i) => i.severity === 'error');
  for (const e of res.issues) for (const p of PRIVATE) expect(e.diagnostics).not.toContain(p);
  const hit = errors.filter((e) => e.expression?.[0] === expression);
  expect({ expression, found: hit.length, all: errors.map((e) => e.expression?.[0]) }).toEqual({ expression, found: 1, all: expect.anything() });
  expect(hit[0].diagnostics).toMatch(text);
  return hit[0];
}

describe('measurement position', () => {
  it('is accepted on body-length and body-height', () => {
    const r = toddler();
    r.measurements[1].position = 'standing';
    expect(mapVisit(r, tables, { now: NOW }).bundle).toBeDefined();
  });
  it('is rejected on any other measurement, at the field', () => {
    const r = toddler();
    r.measurements[0].position = 'lying';
    errorAt(r, 'measurements[0].position', /only for body-length, body-height/);
  });
  it('must be lying or standing', () => {
    const r = toddler();
    r.measurements[1].position = 'sitting';
    errorAt(r, 'measurements[1].position', /lying|standing/);
  });
});

describe('growth.previousWeighing', () => {
  it.each([
    ['2026-02-30', /not a real date/],
    ['2026-10-05', /must be before the visit date/],
    ['2024-12-01', /before patient.birthDate/],
  ])('date %s is rejected', (date, text) => {
    const r = toddler();
    r.growth = { previousWeighing: { date, weightKg: 9.5 } };
    errorAt(r, 'growth.previousWeighing.date', text);
  });
  it('needs a plausible weight and both fields', () => {
    const r = toddler();
    r.growth = { previousWeighing: { date: '2026-09-05', weightKg: 0 } };
    errorAt(r, 'growth.previousWeighing.weightKg', /0\.3/);
    const s = toddler();
    s.growth = { previousWeighing: { date: '2026-09-05' } };
    errorAt(s, 'growth.previousWeighing.weightKg', /required/);
  });
});

describe('growth.reported', () => {
  const withReported = (reported: unknown[], r = toddler()) => {
    r.growth = { reported };
    return r;
  };
  it('rejects an unknown indicator and lists the known ones', () => {
    errorAt(withReported([{ indicator: 'weight-for-age', zScore: -1 }, { indicator: 'zs-bb-u', zScore: -1 }]), 'growth.reported[1].indicator', /not a known growth indicator; use one of weight-for-age, length-height-for-age/);
  });
  it('rejects a z-score outside ±10', () => {
    errorAt(withReported([{ indicator: 'weight-for-age', zScore: -1 }, { indicator: 'length-height-for-age', zScore: 12.5 }]), 'growth.reported[1].zScore', /outside −10 … \+10 SD/);
  });
  it('rejects an indicator sent twice', () => {
    errorAt(withReported([{ indicator: 'weight-for-age', zScore: -1 }, { indicator: 'weight-for-age', category: 'bb-normal' }]), 'growth.reported[1].indicator', /repeats weight-for-age of growth.reported\[0\]/);
  });
  it("rejects a category not in the indicator's set for the age, and lists the set", () => {
    errorAt(withReported([{ indicator: 'weight-for-age', category: 'gizi-baik' }]), 'growth.reported[0].category', /use one of bb-sangat-kurang, bb-kurang, bb-normal, risiko-bb-lebih/);
    // berisiko-gizi-lebih exists for 0–60 months only; at 11 years IMT/U has gizi-lebih.
    const school = sample('school-screening-bias') as unknown as Mutable;
    errorAt(withReported([{ indicator: 'bmi-for-age', category: 'berisiko-gizi-lebih' }], school), 'growth.reported[0].category', /use one of gizi-buruk, gizi-kurang, gizi-baik, gizi-lebih, obesitas/);
  });
  it('rejects a z-score sent for an adult, and a 0–5 year indicator for an older child', () => {
    const adult = sample('adult-ptm-screening') as unknown as Mutable;
    errorAt(withReported([{ indicator: 'bmi-for-age', zScore: 1.2 }], adult), 'growth.reported[0].zScore', /cannot be sent for this patient: over 18 years/);
    errorAt(withReported([{ indicator: 'bmi-for-age', category: 'gizi-baik' }], sample('adult-ptm-screening') as unknown as Mutable), 'growth.reported[0].category', /over 18 years/);
    const school = sample('school-screening-bias') as unknown as Mutable;
    errorAt(withReported([{ indicator: 'weight-for-height', zScore: 0.5 }], school), 'growth.reported[0].zScore', /weight-for-height is defined for 0–60 months only \(WHO 2006\); the child is 136 months/);
    const school2 = sample('school-screening-bias') as unknown as Mutable;
    errorAt(withReported([{ indicator: 'weight-for-age', zScore: 0.5 }], school2), 'growth.reported[0].zScore', /weight-for-age is defined from 60 to 121 months \(WHO-2007\)/);
  });
  it('needs a zScore or a category', () => {
    errorAt(withReported([{ indicator: 'weight-for-age' }]), 'growth.reported[0]', /zScore, a category, or both/);
  });
  it('refuses unknown fields in growth', () => {
    const r = toddler();
    r.growth = { zsBbU: -1 };
    errorAt(r, 'growth', /field 1/);
  });
});
