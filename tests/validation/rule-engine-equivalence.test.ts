// The compiled profile rule engine (one path trie per resource type) against the earlier interpreter kept as the reference
// (tests/validation/reference/rule-engine-v1.ts): identical findings — rule, severity, code, message, FHIRPath location and
// order — over the mapping samples, the validator fixtures and deterministic mutants of each (every value deleted or replaced,
// every rule path set to wrong, empty and right values). The official examples: tests/conformance/rule-engine-equivalence.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../../src/util/paths.js';
import { loadRuleSet } from '../../src/validation/index.js';
import { compareResource, compareWithMutants, engines, newTally } from './reference/equivalence.js';
import * as F from './fixtures.js';

type Json = Record<string, unknown>;
const e = engines(loadRuleSet());
const samplesDir = path.join(mappingsDir, 'samples');
const sampleBundles = readdirSync(samplesDir).filter((f) => f.endsWith('.bundle.json')).sort();

describe('profile rules: compiled engine = reference interpreter', () => {
  const seen = new Set<string>(); // entries of a shape mutated in an earlier sample are not mutated again
  test.each(sampleBundles)('mapping sample %s and its mutants', (file) => {
    const tally = newTally();
    compareWithMutants(e, JSON.parse(readFileSync(path.join(samplesDir, file), 'utf8')) as Json, tally, file, seen);
    expect(tally.differences).toEqual([]);
    expect(tally.runs).toBeGreaterThan(1_000);
    expect(tally.findings).toBeGreaterThan(100); // the mutants do break rules
  });

  const fixtures: Record<string, () => Json> = {
    encounter: F.encounter, condition: F.condition, observation: F.observation, immunization: F.immunization,
    immunizationRecall: F.immunizationRecall, notDoneImmunization: F.notDoneImmunization, patient: F.patient, location: F.location, bundle: F.bundle,
  };
  test.each(Object.keys(fixtures))('validator fixture %s and its mutants', (name) => {
    const tally = newTally();
    compareWithMutants(e, fixtures[name](), tally, name);
    expect(tally.differences).toEqual([]);
    expect(tally.findings).toBeGreaterThan(10);
  });

  test('several parents of a required element: each reported at its own place (the per-parent path)', () => {
    const obs = F.observation();
    delete obs.valueQuantity;
    const q = (value?: number) => ({ ...(value === undefined ? {} : { value }), unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
    obs.component = [{ valueQuantity: q(120) }, { valueQuantity: q() }, { valueQuantity: [q(), q(80), {}] }, {}];
    const tally = newTally();
    compareResource(e, obs, tally, 'components');
    expect(tally.differences).toEqual([]);
    const out: unknown[] = [];
    e.current.run(obs, 'Observation', { nowMs: F.NOW.getTime() }, out as never, 'profile');
    const at = (out as { ruleId?: string; expression?: string[] }[]).filter((i) => i.ruleId === 'observation-component-quantity-value').map((i) => i.expression?.[0]);
    expect(at).toEqual(['Observation.component[1].valueQuantity.value', 'Observation.component[2].valueQuantity[0].value', 'Observation.component[2].valueQuantity[2].value']);
  });
});
