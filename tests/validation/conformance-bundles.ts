// The Bundles of the conformance corpus (CONFORMANCE_DIR, default ../shared/conformance), for the Bundle equivalence tests; none
// when the corpus is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

export function conformanceBundles(): Rec[] {
  const dir = path.resolve(packageRoot, process.env.CONFORMANCE_DIR ?? '../shared/conformance');
  const out: Rec[] = [];
  if (!existsSync(dir)) return out;
  const visit = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) visit(p);
      else if (f.name.endsWith('.json') && f.name !== 'manifest.json') {
        try {
          const j: unknown = JSON.parse(readFileSync(p, 'utf8'));
          if (isObj(j) && j.resourceType === 'Bundle') out.push(j);
        } catch {
          // not JSON: not a Bundle example
        }
      }
    }
  };
  visit(dir);
  return out;
}
