// Shared fixtures for the mapping tests: the tables (loaded once per test file), the samples and a fixed clock.
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mappingsDir } from '../../src/util/paths.js';
import { loadMappingTables } from '../../src/mapping/index.js';
import type { VisitRecord } from '../../src/mapping/index.js';

export const NOW = new Date('2026-11-01T00:00:00Z');
export const samplesDir = path.join(mappingsDir, 'samples');
export const tables = loadMappingTables();

export interface Sample {
  name: string;
  record: VisitRecord;
  goldenPath: string;
}

export const samples: Sample[] = readdirSync(samplesDir)
  .filter((f) => f.endsWith('.visit.json'))
  .sort()
  .map((f) => {
    const name = f.replace(/\.visit\.json$/, '');
    return { name, record: JSON.parse(readFileSync(path.join(samplesDir, f), 'utf8')) as VisitRecord, goldenPath: path.join(samplesDir, `${name}.bundle.json`) };
  });

export const sample = (name: string): VisitRecord => {
  const s = samples.find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return structuredClone(s.record);
};

/** Every value under `v` with its JSON path, for walking invariants. */
export function* walk(v: unknown, p = ''): Generator<[string, unknown]> {
  yield [p, v];
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* walk(v[i], `${p}[${i}]`);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) yield* walk(x, p ? `${p}.${k}` : k);
}

/** A temporary copy of every mapping table (samples left out), for tests that edit a table and reload. */
export function copyOfMappingTables(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-tables-'));
  cpSync(mappingsDir, dir, { recursive: true, filter: (src) => path.basename(src) !== 'samples' });
  return dir;
}
