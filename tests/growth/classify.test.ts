// Permenkes 2/2020 categories at exactly the cut-offs, the KMS weight-gain rule, and the adult KEK / BMI / blood-pressure categories.
import { renderMessage } from '../../src/i18n/issues.js';
import { classifyAdultBmi, classifyBloodPressure, classifyKek, classifyZScore } from '../../src/growth/classify.js';
import { checkGrowthStatus, loadGrowthStatus, partitionProblems, type GrowthStatusTable } from '../../src/growth/status-table.js';
import { weightGainStatus } from '../../src/growth/weight-gain.js';
import type { Indicator, Standard } from '../../src/growth/zscores.js';

const table = loadGrowthStatus();
const eps = 1e-9;
const key = (ind: Indicator, std: Standard, z: number) => classifyZScore(table, ind, std, z)?.key;

/** [z, expected category] pairs straight from the Permenkes 2/2020 table text (e.g. "−3 SD sd < −2 SD": −3 is in, −2 is out). */
const PERMENKES: Array<[Indicator, Standard, Array<[number, string]>]> = [
  ['weight-for-age', 'WHO-2006', [[-3 - eps, 'bb-sangat-kurang'], [-3, 'bb-kurang'], [-2 - eps, 'bb-kurang'], [-2, 'bb-normal'], [0, 'bb-normal'], [1, 'bb-normal'], [1 + eps, 'risiko-bb-lebih'], [4, 'risiko-bb-lebih']]],
  ['length-height-for-age', 'WHO-2006', [[-3 - eps, 'sangat-pendek'], [-3, 'pendek'], [-2 - eps, 'pendek'], [-2, 'normal'], [3, 'normal'], [3 + eps, 'tinggi']]],
  ...(['weight-for-length', 'weight-for-height'] as const).map((ind) => [ind, 'WHO-2006', [
    [-3 - eps, 'gizi-buruk'], [-3, 'gizi-kurang'], [-2 - eps, 'gizi-kurang'], [-2, 'gizi-baik'], [1, 'gizi-baik'], [1 + eps, 'berisiko-gizi-lebih'],
    [2, 'berisiko-gizi-lebih'], [2 + eps, 'gizi-lebih'], [3, 'gizi-lebih'], [3 + eps, 'obesitas']]] as [Indicator, Standard, Array<[number, string]>]),
  ['bmi-for-age', 'WHO-2006', [[-3 - eps, 'gizi-buruk'], [-3, 'gizi-kurang'], [-2, 'gizi-baik'], [1, 'gizi-baik'], [1 + eps, 'berisiko-gizi-lebih'], [2, 'berisiko-gizi-lebih'], [2 + eps, 'gizi-lebih'], [3, 'gizi-lebih'], [3 + eps, 'obesitas']]],
  ['bmi-for-age', 'WHO-2007', [[-3 - eps, 'gizi-buruk'], [-3, 'gizi-kurang'], [-2 - eps, 'gizi-kurang'], [-2, 'gizi-baik'], [1, 'gizi-baik'], [1 + eps, 'gizi-lebih'], [2, 'gizi-lebih'], [2 + eps, 'obesitas']]],
  ['head-circumference-for-age', 'WHO-2006', [[-2 - eps, 'mikrosefali'], [-2, 'normal'], [2, 'normal'], [2 + eps, 'makrosefali']]],
];

describe('Permenkes 2/2020 categories at the cut-offs', () => {
  for (const [ind, std, cases] of PERMENKES) {
    test(`${ind} (${std})`, () => {
      for (const [z, expected] of cases) expect([z, key(ind, std, z)]).toEqual([z, expected]);
    });
  }

  test('official interpretation codes: BB/U OI000007–OI000010, PB-TB/U OI000011–OI000014 (clinical-term)', () => {
    const codes = (ind: Indicator, zs: number[]) => zs.map((z) => classifyZScore(table, ind, 'WHO-2006', z)!.interpretation);
    const ct = 'http://terminology.kemkes.go.id/CodeSystem/clinical-term';
    expect(codes('weight-for-age', [-4, -2.5, 0, 2]).map((c) => [c.system, c.code])).toEqual([[ct, 'OI000007'], [ct, 'OI000008'], [ct, 'OI000009'], [ct, 'OI000010']]);
    expect(codes('length-height-for-age', [-4, -2.5, 0, 4]).map((c) => c.code)).toEqual(['OI000011', 'OI000012', 'OI000013', 'OI000014']);
    expect(classifyZScore(table, 'weight-for-age', 'WHO-2006', -2.5)!.confidence).toBe('OFF');
    expect(classifyZScore(table, 'weight-for-length', 'WHO-2006', -2.5)!.confidence).toBe('UNV');
  });

  test('indicators without a Permenkes category (MUAC-for-age, weight-for-age of the 2007 reference) are not classified', () => {
    expect(classifyZScore(table, 'muac-for-age', 'WHO-2006', -2.5)).toBeUndefined();
    expect(classifyZScore(table, 'weight-for-age', 'WHO-2007', -2.5)).toBeUndefined();
  });
});

describe('table checks', () => {
  test('the shipped table passes', () => expect(checkGrowthStatus(table)).toEqual([]));
  test('a gap, an overlap or a cut-off on both sides is refused', () => {
    expect(partitionProblems('x', [{ max: { z: -2, inclusive: false } }, { min: { z: -1, inclusive: true } }], 'z')).toEqual(["x[1]: its lower bound must equal the previous category's upper bound"]);
    expect(partitionProblems('x', [{ max: { z: -2, inclusive: true } }, { min: { z: -2, inclusive: true } }], 'z')).toEqual(['x[1]: the cut-off -2 must belong to exactly one of the two categories']);
    expect(partitionProblems('x', [{ min: { z: -9, inclusive: true }, max: { z: -2, inclusive: false } }, { min: { z: -2, inclusive: true } }], 'z')).toEqual(['x: the first category must have no lower bound']);
    const broken = structuredClone(table) as GrowthStatusTable;
    broken.indicators['weight-for-age'].schemes[0].categories[1].min!.inclusive = false;
    broken.indicators['weight-for-age'].schemes[0].categories[2].interpretation.system = 'NOPE';
    expect(checkGrowthStatus(broken)).toEqual([
      'growth-status.json indicators.weight-for-age.schemes[0].categories[2].interpretation: system "NOPE" is not a codeSystems key',
      'growth-status.json indicators.weight-for-age.schemes[0].categories[1]: the cut-off -3 must belong to exactly one of the two categories',
    ]);
  });
});

describe('adult classifiers', () => {
  test('KEK: MUAC below 23.5 cm; exactly 23.5 cm is normal (official LiLA codes OI000018 / OI000013)', () => {
    expect(classifyKek(table, 23.4)).toMatchObject({ key: 'kek', interpretation: { code: 'OI000018' }, confidence: 'OFF' });
    expect(classifyKek(table, 23.5)).toMatchObject({ key: 'normal', interpretation: { code: 'OI000013' } });
  });
  test('BMI (P2PTM): < 17 sangat kurus, 17–< 18.5 kurus, 18.5–25.0 normal, > 25–27 gemuk, > 27 obesitas', () => {
    const k = (b: number) => classifyAdultBmi(table, b)?.key;
    expect([16.99, 17, 18.49, 18.5, 25, 25.01, 27, 27.01].map(k)).toEqual(['sangat-kurus', 'kurus', 'kurus', 'normal', 'normal', 'gemuk', 'gemuk', 'obesitas']);
    expect(classifyAdultBmi(table, 22)!.interpretation).toEqual({ system: 'http://terminology.kemkes.go.id/CodeSystem/ObservationInterpretation', code: 'BMI-Normal', display: 'Normal weight' });
  });
  test('blood pressure (JNC 7): the higher of the systolic and diastolic categories', () => {
    const k = (s: number, d: number) => classifyBloodPressure(table, s, d)?.key;
    expect(k(119, 79)).toBe('normal');
    expect(k(120, 70)).toBe('prahipertensi');
    expect(k(110, 80)).toBe('prahipertensi');
    expect(k(139, 89)).toBe('prahipertensi');
    expect(k(140, 70)).toBe('hipertensi-1');
    expect(k(125, 95)).toBe('hipertensi-1');
    expect(k(159, 99)).toBe('hipertensi-1');
    expect(k(160, 60)).toBe('hipertensi-2');
    expect(k(118, 100)).toBe('hipertensi-2');
  });
});

describe('weight gain (KMS N / T)', () => {
  const birth = '2025-06-10';
  test('naik when the gain reaches the minimum for the completed months, tidak naik below it', () => {
    // 3 completed months on 2025-09-12: minimum 800 g.
    const r = weightGainStatus(table, birth, { date: '2025-09-12', weightKg: 6.3 }, { date: '2025-08-12', weightKg: 5.5 });
    expect(r).toMatchObject({ status: 'naik', gainGrams: 800, minimumGainGrams: 800, ageMonths: 3, intervalDays: 31 });
    expect(weightGainStatus(table, birth, { date: '2025-09-12', weightKg: 6.299 }, { date: '2025-08-12', weightKg: 5.5 })).toMatchObject({ status: 'tidak-naik', gainGrams: 799 });
    // Weight loss is tidak naik; from 12 months the minimum is 200 g.
    expect(weightGainStatus(table, birth, { date: '2026-07-01', weightKg: 9.0 }, { date: '2026-06-03', weightKg: 9.1 })).toMatchObject({ status: 'tidak-naik', minimumGainGrams: 200, ageMonths: 12 });
    expect(weightGainStatus(table, birth, { date: '2027-07-01', weightKg: 11.2 }, { date: '2027-06-03', weightKg: 11 })).toMatchObject({ status: 'naik', minimumGainGrams: 200, ageMonths: 24 });
    expect((r as { basis: string }).basis).toMatch(/KMS minimum weight gain at 3 months: 800 g; gained 800 g in 31 days since 2025-08-12/);
  });
  test('not assessable: first weighing (B), not weighed last month (O), dates out of order, outside the table ages', () => {
    expect(weightGainStatus(table, birth, { date: '2025-09-12', weightKg: 6 }, undefined)).toMatchObject({ status: 'not-assessable', kms: 'B' });
    expect(weightGainStatus(table, birth, { date: '2025-10-01', weightKg: 6 }, { date: '2025-08-30', weightKg: 5.5 })).toMatchObject({ status: 'not-assessable', kms: 'O' });
    expect(weightGainStatus(table, birth, { date: '2025-09-12', weightKg: 6 }, { date: '2025-09-12', weightKg: 5.5 })).toMatchObject({ status: 'not-assessable', reason: 'the previous weighing is not before this one' });
    // The reason is also a catalogue message, said in Bahasa Indonesia at the edge.
    const first = weightGainStatus(table, birth, { date: '2025-09-12', weightKg: 6 }, undefined);
    expect(first).toMatchObject({ status: 'not-assessable', kms: 'B', reasonMessage: { key: 'source.growth.gain.first', params: {} } });
    expect(renderMessage('id', 'source.growth.gain.first')).toBe('penimbangan pertama (B): belum ada penimbangan sebelumnya');
    expect(weightGainStatus(table, birth, { date: '2025-07-05', weightKg: 4 }, { date: '2025-06-11', weightKg: 3.3 })).toMatchObject({ status: 'not-assessable', reason: expect.stringMatching(/from 1 to 60 months; the child is 0 months/) });
    expect(weightGainStatus(table, '2020-01-01', { date: '2025-09-12', weightKg: 20 }, { date: '2025-08-12', weightKg: 19.8 })).toMatchObject({ status: 'not-assessable' });
  });
});

describe('sandbox checklist', () => {
  it('lists the unverified growth codes and categories, and not the official BB/U and PB/U interpretations', async () => {
    const { loadMappingTables, unconfirmedValues } = await import('../../src/mapping/index.js');
    const list = unconfirmedValues(loadMappingTables());
    const byPath = new Map(list.map((u) => [u.path, u]));
    expect(byPath.get('growth.indicators.weight-for-age.codes[0]')).toMatchObject({ confidence: 'UNV', value: 'OC000108' });
    expect(byPath.get('growth.indicators.weight-for-length.schemes[0].categories[0].interpretation')).toMatchObject({ confidence: 'UNV', value: 'OI000001' });
    expect(byPath.get('growth.weightGain')).toMatchObject({ confidence: 'UNV' });
    expect(byPath.get('growth.weightGain')!.value).toBeUndefined();
    expect(byPath.has('growth.indicators.weight-for-age.schemes[0].categories[0].interpretation')).toBe(false);
    expect(byPath.has('growth.adult.kek')).toBe(false);
  });
});

describe('cross-table check', () => {
  it('the growth Observation category must be one of systems.json', async () => {
    const { checkTables, loadMappingTables } = await import('../../src/mapping/tables.js');
    const t = loadMappingTables();
    expect(checkTables(t)).toEqual([]);
    const broken = { ...t, growth: { ...t.growth, status: { ...t.growth.status, observationCategory: { ...t.growth.status.observationCategory, code: 'vitals' } } } };
    expect(checkTables(broken)).toEqual(['growth-status.json observationCategory "vitals" is not in systems.json codes.observationCategories']);
  });
});
