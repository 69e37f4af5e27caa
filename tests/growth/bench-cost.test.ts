// The bench's growth-cost figure, with a fake clock (no wall-clock dependence).
import { measureGrowthCost } from '../../bench/growth-cost.js';
import { NOW, samples, tables } from '../mapping/helpers.js';

it('times the z-score step per visit over every valid record and round', () => {
  let t = 0;
  const clock = () => (t += 5); // 5 ms between the two readings
  const records = samples.map((s) => s.record);
  const cost = measureGrowthCost([...records, { not: 'a visit' }], tables, NOW, 2, clock);
  expect(cost.visits).toBe(records.length * 2);
  // The facts are computed for every visit with a weight, length/height, head or MUAC measurement (an adult's are all not-computed).
  const withMeasure = records.filter((r) => (r.measurements ?? []).some((m) => ['body-weight', 'body-height', 'body-length', 'head-circumference', 'mid-upper-arm-circumference'].includes(m.code)));
  expect(cost.withGrowth).toBe(withMeasure.length * 2);
  // Of those, z-scores come out for the children (WHO references end at 19 years); an adult's weight has none.
  const years = (r: (typeof records)[number]) => (Date.parse(r.start) - Date.parse(r.patient.birthDate)) / (365.25 * 86_400_000);
  const children = withMeasure.filter((r) => years(r) < 19);
  expect(children.length).toBeGreaterThan(0);
  expect(children.length).toBeLessThan(withMeasure.length);
  expect(cost.withZScores).toBe(children.length * 2);
  expect(cost.microsPerVisit).toBeCloseTo((5 * 1000) / cost.visits, 9);
});
