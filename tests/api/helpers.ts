// Shared set-up for API tests: the real validator and mapping tables (built once per file), a pinned clock,
// a log capture (to assert that nothing sensitive is logged), and the mapping samples.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/util/logger.js';
import { mappingsDir } from '../../src/util/paths.js';

export const NOW = new Date('2026-11-20T03:00:00Z');

export function logCapture(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination: stream }), text: () => chunks.join('') };
}

export interface Sample {
  name: string;
  record: Record<string, unknown>;
}

export function loadSamples(): Sample[] {
  const dir = path.join(mappingsDir, 'samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.visit.json'))
    .sort()
    .map((f) => ({ name: f, record: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown> }));
}

/** Every string value of a record that is personal data (NIKs, names, phone), to assert they never reach logs. */
export function personalValues(record: Record<string, unknown>): string[] {
  const out: string[] = [];
  const p = record.patient as Record<string, unknown> | undefined;
  for (const k of ['nik', 'motherNik', 'name', 'phone']) if (p && typeof p[k] === 'string') out.push(p[k] as string);
  const pr = record.practitioner as Record<string, unknown> | undefined;
  if (pr && typeof pr.nik === 'string') out.push(pr.nik);
  return out;
}
