// The compiled profile rule engine against the reference interpreter (tests/validation/reference/) over the official examples
// read in place from CONFORMANCE_DIR (as conformance.test.ts does) and deterministic mutants of each: identical findings.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { loadRuleSet } from '../../src/validation/index.js';
import { compareWithMutants, engines, newTally } from '../validation/reference/equivalence.js';

const DIR = path.resolve(packageRoot, process.env.CONFORMANCE_DIR ?? '../shared/conformance');
if (!existsSync(path.join(DIR, 'satusehat-examples', 'manifest.json'))) {
  throw new Error(`Conformance corpus not found at ${DIR}: set CONFORMANCE_DIR`);
}

const e = engines(loadRuleSet());
const seen = new Set<string>(); // one resource shape is mutated once across the corpus

describe.each(['satusehat-examples', 'r4-examples'])('profile rules, compiled = reference, over %s', (folder) => {
  const manifest = JSON.parse(readFileSync(path.join(DIR, folder, 'manifest.json'), 'utf8')) as { file: string }[];
  test(`every example (${manifest.length}) and its mutants`, () => {
    const tally = newTally();
    for (const { file } of manifest) {
      const res = JSON.parse(readFileSync(path.join(DIR, folder, file), 'utf8')) as Record<string, unknown>;
      if (typeof res.resourceType === 'string') compareWithMutants(e, res, tally, `${folder}/${file}`, seen);
    }
    expect(tally.differences).toEqual([]);
    expect(tally.findings).toBeGreaterThan(1_000);
    console.log(`${folder}: ${tally.runs} rule runs compared, ${tally.findings} findings, identical`);
  });
});
