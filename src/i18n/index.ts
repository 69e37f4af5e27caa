// Operator-facing text (console, explanations of a record's state, source-record errors) from message catalogues:
// Bahasa Indonesia by default, English on request. One JSON file per area under messages/, each key with both languages
// and the same {placeholders}; a test holds every file to that. Code refers to keys, never to the words.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { messagesDir } from '../util/paths.js';
import { ownEntry } from '../util/own.js';

export const LOCALES = ['id', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'id';

export type Catalogue = ReadonlyMap<string, Readonly<Record<Locale, string>>>;
export type Params = Readonly<Record<string, string | number>>;

const isLocale = (x: string): x is Locale => (LOCALES as readonly string[]).includes(x);

/**
 * The locale an `Accept-Language` header asks for (q-values honoured, region ignored: `en-US` → en); Bahasa Indonesia when
 * the header is absent, malformed or names neither language.
 */
export function negotiateLocale(header: string | undefined): Locale {
  if (!header || header.length > 500) return DEFAULT_LOCALE;
  let best: { locale: Locale; q: number } | undefined;
  for (const part of header.split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().split(';');
    const lang = tag.trim().toLowerCase().split('-')[0] ?? '';
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!isLocale(lang) || !Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { locale: lang, q };
  }
  return best?.locale ?? DEFAULT_LOCALE;
}

/** Reads one area's catalogue (messages/<area>.json): { key: { id, en } }. Throws on a malformed file (a build defect). */
export function loadCatalogue(area: string, dir = messagesDir): Catalogue {
  const file = path.join(dir, `${area}.json`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out = new Map<string, Record<Locale, string>>();
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('$')) continue; // "$comment" and the like
    const v = value as Record<string, unknown>;
    for (const l of LOCALES) if (typeof v?.[l] !== 'string') throw new Error(`${file}: message ${key} has no ${l} text`);
    out.set(key, { id: v.id as string, en: v.en as string });
  }
  return out;
}

/** Every catalogue file's area name (for the completeness test). */
export const catalogueAreas = (dir = messagesDir): string[] =>
  readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

/** The message in `locale` with its {placeholders} filled; a missing key or parameter is a defect and throws. */
export function translate(catalogue: Catalogue, locale: Locale, key: string, params: Params = {}): string {
  const entry = catalogue.get(key);
  if (!entry) throw new Error(`no message ${key}`);
  return entry[locale].replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = ownEntry(params, name);
    if (value === undefined) throw new Error(`message ${key}: parameter ${name} missing`);
    return String(value);
  });
}

/** A translator bound to one catalogue: `const t = messages('visit-state'); t(locale, 'queued')`. */
export function messages(area: string): (locale: Locale, key: string, params?: Params) => string {
  const catalogue = loadCatalogue(area);
  return (locale, key, params) => translate(catalogue, locale, key, params);
}

/** The placeholders a template uses, sorted (both languages of a key must use the same set). */
export const placeholdersOf = (template: string): string[] => [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
