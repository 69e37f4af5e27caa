// The recorded platform answers the simulator mirrors: read from PLATFORM_RESPONSES_DIR when set (the corpus in
// ../shared/platform-responses), else the literal copy kept here, so `npm test` never needs the corpus.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function recordedBody(file: string, literal: unknown): unknown {
  const dir = process.env.PLATFORM_RESPONSES_DIR;
  if (!dir) return literal;
  return (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { body: unknown }).body;
}

/** Keys and value types, recursively (an array by its first element): what two answers must share to look alike. */
export function keyShape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [keyShape(v[0])] : [];
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, keyShape((v as Record<string, unknown>)[k])]));
  }
  return typeof v;
}
