// Growth Observations emitted for one toddler record (golden-style), weight gain, facility-sent values and who gets none.
import type { Observation } from 'fhir/r4.js';
import { mapVisit, type MapResult } from '../../src/mapping/index.js';
import { zScoreAt } from '../../src/growth/zscores.js';
import { NOW, sample, tables } from '../mapping/helpers.js';
import { createValidator } from '../../src/validation/index.js';
import { localizeIssues } from '../../src/i18n/issues.js';

type Mutable = Record<string, any>;
const toddler = () => sample('toddler-growth-monitoring') as unknown as Mutable; // girl born 2024-12-27, visit 2026-10-05 (647 days)
const DAYS = 647;
const CT = 'http://terminology.kemkes.go.id/CodeSystem/clinical-term';
const map = (r: unknown) => mapVisit(r, tables, { now: NOW });
const entry = (res: MapResult, key: string) => res.entries.find((e) => e.key === key);
const obs = (res: MapResult, key: string) => entry(res, key)?.resource as Observation | undefined;
const z = (ind: Parameters<typeof zScoreAt>[2], x: number, y: number) => {
  const r = zScoreAt(tables.growth.who, 'WHO-2006', ind, 'female', x, y);
  if (typeof r === 'string') throw new Error(r);
  return Math.round(r.z * 100) / 100;
};

describe('toddler growth Observations', () => {
  const res = map(toddler());
  const weightUrl = entry(res, 'observation/body-weight.1')!.fullUrl;
  const lengthUrl = entry(res, 'observation/body-length.1')!.fullUrl;

  it('emits one Observation per computed indicator after the measurements, for the age (weight-for-length under 731 days)', () => {
    expect(res.entries.filter((e) => e.resource.resourceType === 'Observation').map((e) => e.key)).toEqual([
      'observation/body-weight.1', 'observation/body-length.1', 'observation/head-circumference.1', 'observation/mid-upper-arm-circumference.1',
      'observation/tb-symptom-screening.1', // the sample's finding, before the growth Observations
      'observation/weight-for-age.1', 'observation/length-height-for-age.1', 'observation/weight-for-length.1', 'observation/bmi-for-age.1',
      'observation/head-circumference-for-age.1', 'observation/muac-for-age.1',
    ]);
  });

  it('weight-for-age: {Zscore} value, BB/U category (official OI code), derivedFrom the weight, identifier and time of the weight', () => {
    const o = obs(res, 'observation/weight-for-age.1')!;
    const weight = obs(res, 'observation/body-weight.1')!;
    expect(o).toEqual({
      resourceType: 'Observation',
      identifier: [{ system: 'http://sys-ids.kemkes.go.id/observation/10000004', value: 'PSY-MAWAR-2026-10-0157.weight-for-age.1' }],
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'exam', display: 'Exam' }] }],
      code: {
        coding: [
          { system: CT, code: 'OC000108', display: 'Klasifikasi status gizi' },
          { system: 'urn:ilp-satusehat-adapter:growth-indicator', code: 'BB/U-Z', display: 'Berat badan menurut umur (BB/U), z-score' },
        ],
        text: 'BB/U',
      },
      subject: weight.subject,
      encounter: weight.encounter,
      effectiveDateTime: weight.effectiveDateTime,
      issued: weight.issued,
      performer: weight.performer,
      derivedFrom: [{ reference: weightUrl }],
      valueQuantity: { value: z('weight-for-age', DAYS, 9.8), unit: '{Zscore}', system: 'http://unitsofmeasure.org', code: '{Zscore}' },
      interpretation: [{ coding: [{ system: CT, code: 'OI000009', display: 'Berat Badan Normal' }], text: 'Berat badan normal' }],
    });
  });

  it('length-for-age, weight-for-length, BMI-for-age, head circumference and MUAC: values, categories and sources', () => {
    const lhfa = obs(res, 'observation/length-height-for-age.1')!;
    expect(lhfa.valueQuantity!.value).toBe(z('length-height-for-age', DAYS, 79.4));
    expect(lhfa.interpretation![0].coding![0].code).toBe('OI000013');
    expect(lhfa.derivedFrom).toEqual([{ reference: lengthUrl }]);
    const wfl = obs(res, 'observation/weight-for-length.1')!;
    expect(wfl.code.coding).toEqual([{ system: CT, code: 'OC000005', display: 'Indeks Berat Badan menurut Panjang Badan (z-score)' }]);
    expect(wfl.valueQuantity!.value).toBe(z('weight-for-length', 79.4, 9.8));
    expect(wfl.interpretation![0].coding![0].code).toBe('OI000003');
    expect(wfl.derivedFrom).toEqual([{ reference: weightUrl }, { reference: lengthUrl }]);
    expect(obs(res, 'observation/bmi-for-age.1')!.valueQuantity!.value).toBe(z('bmi-for-age', DAYS, 9.8 / 0.794 ** 2));
    const hc = obs(res, 'observation/head-circumference-for-age.1')!;
    expect(hc.valueQuantity!.value).toBe(z('head-circumference-for-age', DAYS, 46.2));
    expect(hc.interpretation![0].coding![0]).toEqual({ system: CT, code: 'OI000015', display: 'Normocephaly' });
    const muac = obs(res, 'observation/muac-for-age.1')!;
    expect(muac.valueQuantity!.value).toBe(z('muac-for-age', DAYS, 14.6));
    expect(muac.interpretation).toBeUndefined(); // Permenkes 2/2020 gives no MUAC-for-age category
    expect(res.issues.filter((i) => i.severity !== 'warning')).toEqual([]);
  });

  it('a standing height under 2 years is adjusted by +0.7 cm (WHO) before the length-based z-scores', () => {
    const r = toddler();
    r.measurements[1].position = 'standing';
    const adjusted = map(r);
    expect(obs(adjusted, 'observation/length-height-for-age.1')!.valueQuantity!.value).toBe(z('length-height-for-age', DAYS, 80.1));
    expect(obs(adjusted, 'observation/weight-for-length.1')!.valueQuantity!.value).toBe(z('weight-for-length', 80.1, 9.8));
    // The measurement itself is sent as measured.
    expect(obs(adjusted, 'observation/body-length.1')!.valueQuantity!.value).toBe(79.4);
  });

  it('an implausible z-score (WHO cut-offs) is a warning at the measurement, and still sent', () => {
    const r = toddler();
    r.measurements[0].value = 3.1;
    const res2 = map(r);
    expect(res2.bundle).toBeDefined();
    const w = res2.issues.filter((i) => i.severity === 'warning' && i.expression?.[0] === 'measurements[0].value');
    expect(w.map((i) => i.diagnostics)).toEqual(expect.arrayContaining([expect.stringMatching(/^BB\/U z-score -[0-9.]+ is beyond WHO's limit for a biologically plausible value/)]));
  });
});

describe('weight gain (KMS)', () => {
  const withPrevious = (date: string, weightKg: number) => {
    const r = toddler();
    r.growth = { previousWeighing: { date, weightKg } };
    return map(r);
  };
  it('naik: at least 200 g since last month at 21 months, derivedFrom the weight', () => {
    const res = withPrevious('2026-09-05', 9.6);
    const o = obs(res, 'observation/weight-gain.1')!;
    expect(o.code.coding).toEqual([{ system: CT, code: 'OC000109', display: 'Klasifikasi status pertumbuhan' }]);
    expect(o.valueCodeableConcept).toEqual({ coding: [{ system: 'http://snomed.info/sct', code: '161831008', display: 'Weight increasing' }], text: 'Naik (N)' });
    expect(o.identifier![0].value).toBe('PSY-MAWAR-2026-10-0157.weight-gain.1');
    expect(o.derivedFrom).toEqual([{ reference: entry(res, 'observation/body-weight.1')!.fullUrl }]);
    expect(res.issues.filter((i) => i.severity === 'information')).toEqual([{
      severity: 'information', code: 'informational', expression: ['growth.previousWeighing'],
      diagnostics: 'weight gain naik: KMS minimum weight gain at 21 months: 200 g; gained 200 g in 30 days since 2026-09-05 (previous weighing from the record (growth.previousWeighing))',
      message: { key: 'source.growth.weight-gain', params: {
        status: 'naik', '@basis': 'source.growth.gain.basis', months: 21, minimum: 200, gained: 200, days: 30, date: '2026-09-05',
        '@from': 'source.growth.gain.from.record',
      } },
    }]);
    // What an operator reads: Bahasa Indonesia by default, English on request (Accept-Language: en / --lang en).
    const info = res.issues.find((i) => i.severity === 'information')!;
    expect(localizeIssues([info], 'id')[0]!.diagnostics).toBe(
      'kenaikan berat badan naik: kenaikan berat badan minimal KMS pada usia 21 bulan: 200 g; naik 200 g dalam 30 hari sejak 2026-09-05 (penimbangan sebelumnya dari catatan ini (growth.previousWeighing))');
    expect(localizeIssues([info], 'en')[0]!.diagnostics).toBe(info.diagnostics);
  });
  it('tidak naik below the minimum', () => {
    const o = obs(withPrevious('2026-09-05', 9.61), 'observation/weight-gain.1')!;
    expect(o.valueCodeableConcept!.coding![0]).toEqual({ system: CT, code: 'OC000146', display: 'Status pertumbuhan tidak naik (Status T)' });
    expect(o.valueCodeableConcept!.text).toBe('Tidak naik (T)');
  });
  it("from a previous weighing the caller knows (an earlier visit), when the record has none; the record's own wins", () => {
    const res = mapVisit(toddler(), tables, { now: NOW, previousWeighing: { date: '2026-09-04', weightKg: 9.7, from: 'visit PSY-MAWAR-2026-09-0101' } });
    expect(obs(res, 'observation/weight-gain.1')!.valueCodeableConcept!.text).toBe('Tidak naik (T)');
    expect(res.issues.find((i) => i.severity === 'information')).toMatchObject({ diagnostics: expect.stringMatching(/gained 100 g in 31 days since 2026-09-04 \(previous weighing from visit PSY-MAWAR-2026-09-0101\)$/) });
    expect(res.issues.find((i) => i.severity === 'information')!.expression).toBeUndefined();
    // The earlier visit this service holds (as delivery names it), in the reader's language.
    const held = mapVisit(toddler(), tables, {
      now: NOW, previousWeighing: { date: '2026-09-04', weightKg: 9.7, from: { key: 'source.growth.gain.from.held', params: { visitId: 'V-0101' } } },
    });
    const heldInfo = held.issues.find((i) => i.severity === 'information')!;
    expect(heldInfo.diagnostics).toMatch(/\(previous weighing from visit V-0101, held by this service\)$/);
    expect(localizeIssues([heldInfo], 'id')[0]!.diagnostics).toMatch(/\(penimbangan sebelumnya dari kunjungan V-0101, disimpan layanan ini\)$/);
    const r = toddler();
    r.growth = { previousWeighing: { date: '2026-09-05', weightKg: 9.6 } };
    const own = mapVisit(r, tables, { now: NOW, previousWeighing: { date: '2026-09-04', weightKg: 9.7, from: 'an earlier visit' } });
    expect(obs(own, 'observation/weight-gain.1')!.valueCodeableConcept!.text).toBe('Naik (N)');
  });
  it('both statuses pass the SATUSEHAT rules the platform applies (a value coding from an allowed system, rule 10297)', () => {
    const validator = createValidator();
    for (const kg of [9.6, 9.61]) {
      const res = withPrevious('2026-09-05', kg);
      expect(obs(res, 'observation/weight-gain.1')).toBeDefined();
      expect(validator.validate(res.bundle!, { now: NOW }).filter((i) => i.severity === 'error')).toEqual([]);
    }
  });
  it('no Observation when not weighed last month (O) or without a previous weighing (B)', () => {
    const notWeighedLastMonth = withPrevious('2026-08-05', 9.0);
    expect(obs(notWeighedLastMonth, 'observation/weight-gain.1')).toBeUndefined();
    expect(notWeighedLastMonth.issues.find((i) => i.severity === 'information')!.diagnostics).toMatch(/^weight gain not assessed: the previous weighing \(2026-08-05\) is not in the previous calendar month \(O\)/);
    expect(obs(map(toddler()), 'observation/weight-gain.1')).toBeUndefined();
  });
});

describe('facility-sent z-scores and categories', () => {
  const computed = z('weight-for-age', DAYS, 9.8);
  const report = (reported: unknown[]) => {
    const r = toddler();
    r.growth = { reported };
    return map(r);
  };
  it('the sent value is kept; a difference beyond 0.1 SD is a warning at growth.reported[i], not an error', () => {
    const res = report([{ indicator: 'length-height-for-age', zScore: -1 }, { indicator: 'weight-for-age', zScore: computed - 0.5 }]);
    expect(res.bundle).toBeDefined();
    expect(obs(res, 'observation/weight-for-age.1')!.valueQuantity!.value).toBe(computed - 0.5);
    const warnings = res.issues.filter((i) => i.expression?.[0]?.startsWith('growth.reported'));
    // In indicator order (weight-for-age first).
    expect(warnings.map((w) => [w.severity, w.expression![0]])).toEqual([['warning', 'growth.reported[1]'], ['warning', 'growth.reported[0]']]);
    expect(warnings[0].diagnostics).toMatch(new RegExp(`facility's BB/U z-score ${computed - 0.5} differs from the adapter's ${computed} \\(WHO-2006, age 647 days\\) by more than 0.1 SD`));
  });
  it('within the tolerance: no warning', () => {
    const res = report([{ indicator: 'weight-for-age', zScore: computed + 0.05 }]);
    expect(res.issues.filter((i) => i.expression?.[0]?.startsWith('growth.reported'))).toEqual([]);
    expect(obs(res, 'observation/weight-for-age.1')!.valueQuantity!.value).toBe(computed + 0.05);
  });
  it('a sent category is kept as the interpretation; a different one than computed is a warning', () => {
    const res = report([{ indicator: 'weight-for-age', category: 'bb-kurang' }]);
    expect(obs(res, 'observation/weight-for-age.1')!.interpretation![0].coding![0].code).toBe('OI000008');
    expect(obs(res, 'observation/weight-for-age.1')!.valueQuantity!.value).toBe(computed);
    expect(res.issues.filter((i) => i.expression?.[0] === 'growth.reported[0]').map((i) => i.diagnostics)).toEqual([
      expect.stringMatching(/category bb-kurang differs from the adapter's bb-normal/),
    ]);
  });
  it('a value for an indicator the visit could not compute is sent as given, without derivedFrom', () => {
    const r = toddler();
    r.measurements = r.measurements.filter((m: Mutable) => m.code !== 'head-circumference');
    r.growth = { reported: [{ indicator: 'head-circumference-for-age', zScore: -2.5 }] };
    const o = obs(map(r), 'observation/head-circumference-for-age.1')!;
    expect(o.valueQuantity!.value).toBe(-2.5);
    expect(o.interpretation![0].coding![0].code).toBe('1829003');
    expect(o.derivedFrom).toBeUndefined();
  });
});

describe('who gets growth Observations', () => {
  const growthKeys = (res: MapResult) => res.entries.map((e) => e.key).filter((k) => /^observation\/(.*-for-.*|weight-gain)\.1$/.test(k));
  it('an adult gets none', () => {
    const res = map(sample('adult-ptm-screening'));
    expect(res.bundle).toBeDefined();
    expect(growthKeys(res)).toEqual([]);
  });
  it('a school child (WHO 2007): height- and BMI-for-age; weight-for-age stops at 10 years', () => {
    const res = map(sample('school-screening-bias'));
    expect(growthKeys(res)).toEqual(['observation/length-height-for-age.1', 'observation/bmi-for-age.1']);
    expect(obs(res, 'observation/bmi-for-age.1')!.interpretation![0].text).toMatch(/^Gizi/);
  });
});
