// The structure layer's fast path (generated/r4/fast-checks.cjs) against its oracle (Ajv + the required-bindings walk) over the
// official examples read in place from CONFORMANCE_DIR (as conformance.test.ts does) and mutants of each: same answer, same issues.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { compareWithMutants, fastEngines, newFastTally } from '../validation/reference/fast-checks-equivalence.js';

const DIR = path.resolve(packageRoot, process.env.CONFORMANCE_DIR ?? '../shared/conformance');
if (!existsSync(path.join(DIR, 'satusehat-examples', 'manifest.json'))) {
  throw new Error(`Conformance corpus not found at ${DIR}: set CONFORMANCE_DIR`);
}

const e = fastEngines();

describe.each(['satusehat-examples', 'r4-examples'])('structure fast path = Ajv + required bindings, over %s', (folder) => {
  const manifest = JSON.parse(readFileSync(path.join(DIR, folder, 'manifest.json'), 'utf8')) as { file: string }[];
  test(`every example (${manifest.length}) and its mutants`, () => {
    const tally = newFastTally();
    for (const { file } of manifest) {
      const res = JSON.parse(readFileSync(path.join(DIR, folder, file), 'utf8')) as Record<string, unknown>;
      if (typeof res.resourceType === 'string') compareWithMutants(e, res, tally, `${folder}/${file}`, 2);
    }
    expect(tally.differences).toEqual([]);
    expect(tally.valid).toBeGreaterThan(100);
    expect(tally.invalid).toBeGreaterThan(1_000);
    console.log(`${folder}: ${tally.resources} resources compared (${tally.valid} valid, ${tally.invalid} not), identical`);
  });
});
