// Cost of the growth computation per visit (WHO z-scores of the measurements), for `npm run bench`: the records are checked once,
// then only the z-score step is timed, so the figure is what growth adds to mapping a visit.
import { analyseVisit, type VisitPlan } from '../src/mapping/check.js';
import { visitGrowthFacts } from '../src/mapping/growth-observations.js';
import type { MappingTables } from '../src/mapping/types.js';

export interface GrowthCost {
  /** Visits timed (records × rounds); records with errors are skipped. */
  visits: number;
  /** Of those, visits with at least one growth measurement (adults' weights included: their facts are all not-computed). */
  withGrowth: number;
  /** Of those, visits with at least one computed WHO z-score (children). */
  withZScores: number;
  microsPerVisit: number;
}

/** Times `visitGrowthFacts` over `records` × `rounds`; `clock` returns milliseconds (default performance.now). */
export function measureGrowthCost(
  records: unknown[], tables: MappingTables, now: Date, rounds = 100, clock: () => number = () => performance.now(),
): GrowthCost {
  const plans = records.map((r) => analyseVisit(r, tables, now).plan).filter((p): p is VisitPlan => p !== undefined);
  let withGrowth = 0;
  let withZScores = 0;
  const t0 = clock();
  for (let i = 0; i < rounds; i++) {
    for (const p of plans) {
      const facts = visitGrowthFacts(p, tables.growth);
      if (!facts) continue;
      withGrowth++;
      if (facts.results.some((r) => r.status === 'computed')) withZScores++;
    }
  }
  const elapsed = clock() - t0;
  const visits = plans.length * rounds;
  return { visits, withGrowth, withZScores, microsPerVisit: visits ? (elapsed * 1000) / visits : 0 };
}
