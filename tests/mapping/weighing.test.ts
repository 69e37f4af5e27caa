import { visitWeighing } from '../../src/mapping/weighing.js';
import { childKey, weighingFact } from '../../src/sync/weighings.js';
import { sample, tables } from './helpers.js';

const KEY = Buffer.alloc(32, 7);

describe('the weighing a visit keeps for the next one', () => {
  it("takes the child's body weight in grams on the local date of the measurement", () => {
    const r = sample('toddler-growth-monitoring');
    const bw = r.measurements!.find((m) => m.code === 'body-weight')!;
    const expectedGrams = Math.round((bw.unit === 'g' ? bw.value / 1000 : bw.value) * 1000);
    expect(visitWeighing(r, tables)).toEqual({ measuredOn: (bw.at ?? r.start).slice(0, 10), weightGrams: expectedGrams });
    bw.unit = 'g';
    bw.value = 11234;
    delete bw.at;
    expect(visitWeighing(r, tables)).toEqual({ measuredOn: r.start.slice(0, 10), weightGrams: 11234 });
  });

  it('keeps nothing without a body weight or for a child older than 60 months', () => {
    const r = sample('toddler-growth-monitoring');
    expect(visitWeighing({ ...r, measurements: r.measurements!.filter((m) => m.code !== 'body-weight') }, tables)).toBeUndefined();
    expect(visitWeighing({ ...r, patient: { ...r.patient, birthDate: '2019-01-01' } }, tables)).toBeUndefined();
  });

  it('keys the child by a keyed hash, never the NIK, and the same child always the same', () => {
    const r = sample('toddler-growth-monitoring');
    const fact = weighingFact(r, tables, KEY)!;
    expect(fact.childKey).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(fact)).not.toContain(r.patient.nik ?? r.patient.motherNik!);
    expect(childKey(structuredClone(r), KEY)).toBe(fact.childKey);
    expect(childKey(r, Buffer.alloc(32, 8))).not.toBe(fact.childKey);
    const newborn = sample('newborn-without-nik');
    expect(childKey(newborn, KEY)).not.toBe(childKey({ ...newborn, patient: { ...newborn.patient, birthOrder: 2 } }, KEY));
  });
});
