// Issues that carry their message as state (a catalogue key and its PII-free parameters), rendered at the edge in the
// reader's language. Producers (mapping, ingest, API) build issues with `messageIssue`: the stored/default `diagnostics`
// is the English rendering of the same catalogue entry, so every word lives in messages/<area>.json.
//
// A message key is `<area>.<key in that area's file>` (`source.time.future` → messages/source.json, key `time.future`).
// A parameter named `@name` holds another message key; its rendering (same language, same parameters) fills `{name}`:
// that is how a fragment ("a whole number", "the value given") is said in the reader's language too.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import type { Issue, MessageRef } from '../validation/outcome.js';
import { issue, MESSAGE_EXTENSION, messageOfExtension } from '../validation/outcome.js';
import { loadCatalogue, translate, type Catalogue, type Locale, type Params } from './index.js';
import { ownEntry } from '../util/own.js';

const catalogues = new Map<string, Catalogue>();

function catalogueOf(area: string): Catalogue {
  let c = catalogues.get(area);
  if (!c) {
    c = loadCatalogue(area);
    catalogues.set(area, c);
  }
  return c;
}

/** The area and in-file key of a message key; throws on a key without an area (a defect). */
export function splitKey(key: string): [area: string, key: string] {
  const dot = key.indexOf('.');
  if (dot <= 0) throw new Error(`message key ${key} names no area`);
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** Whether a message key exists (in both languages: the catalogue loader refuses a file missing one). */
export function hasMessage(key: string): boolean {
  const [area, inner] = splitKey(key);
  try {
    return catalogueOf(area).has(inner);
  } catch {
    return false;
  }
}

/** The message `key` in `locale` with its parameters (and `@` fragments) filled; a missing key or parameter throws (a defect). */
export function renderMessage(locale: Locale, key: string, params: Params = {}, depth = 0): string {
  const [area, inner] = splitKey(key);
  const catalogue = catalogueOf(area);
  const entry = catalogue.get(inner);
  if (!entry) throw new Error(`no message ${key}`);
  // Fragments are resolved only for the placeholders this template names: the common message has none and pays nothing.
  const template = entry[locale];
  const fragments: Array<[string, string]> = [];
  if (depth < 3 && template.includes('{')) {
    for (const [, name] of template.matchAll(/\{(\w+)\}/g)) {
      if (ownEntry(params, name!) !== undefined) continue;
      const fragment = ownEntry(params, `@${name!}`);
      if (fragment !== undefined) fragments.push([name!, renderMessage(locale, String(fragment), params, depth + 1)]);
    }
  }
  return translate(catalogue, locale, inner, fragments.length ? { ...params, ...Object.fromEntries(fragments) } : params);
}

/** Renders a message reference (convenience for callers holding one). */
export const renderRef = (locale: Locale, ref: MessageRef): string => renderMessage(locale, ref.key, ref.params);

/** An issue whose text is the catalogue message `key`: `diagnostics` in English (the stored form), `message` for the edge. */
export function messageIssue(severity: Issue['severity'], code: Issue['code'], key: string, params: Params = {},
  expression?: string | string[], rule?: string): Issue {
  const out = issue(severity, code, renderMessage('en', key, params), expression, rule);
  out.message = { key, params: { ...params } };
  return out;
}

const withRule = (text: string, rule: string | undefined) => (rule && !text.includes('RuleNumber') ? `${text} (RuleNumber: ${rule})` : text);

/** Shape shared by issues and stored issue copies (rejection entries): what rendering needs. */
export interface LocalizableIssue {
  diagnostics?: string;
  message?: MessageRef;
  rule?: string;
}

/** One issue's text in `locale`: its message rendered when it carries one (with the rule suffix), else its stored text. */
export function issueText(i: LocalizableIssue, locale: Locale): string | undefined {
  if (!i.message || locale === 'en') return i.diagnostics;
  let text: string;
  try {
    text = renderMessage(locale, i.message.key, i.message.params);
  } catch {
    // A stored key that a later catalogue no longer has: the stored English text still says what was wrong.
    return i.diagnostics;
  }
  return withRule(text, i.rule ?? /\(RuleNumber: (\d+)\)$/.exec(i.diagnostics ?? '')?.[1]);
}

/**
 * The issues with `diagnostics` in `locale`. English is the stored form, so it is returned as is; issues without a message
 * (platform text, older stored entries) keep their text. An empty list costs nothing.
 */
export function localizeIssues<T extends LocalizableIssue>(issues: readonly T[], locale: Locale): T[] {
  if (locale === 'en' || !issues.length) return issues as T[];
  return issues.map((i) => (i.message ? { ...i, diagnostics: issueText(i, locale)! } : i));
}

/**
 * A stored OperationOutcome (a visit's lastError) for a reader: issues carrying a message (MESSAGE_EXTENSION) said in
 * `locale`, the extension left out; issues without one (the platform's own text, older rows) as stored.
 */
export function localizeOutcome(outcome: OperationOutcome, locale: Locale): OperationOutcome {
  if (!outcome.issue?.some((i) => i.extension?.length)) return outcome;
  return {
    ...outcome,
    issue: outcome.issue.map((i) => {
      const message = messageOfExtension(i.extension);
      if (!message) return i;
      const { extension, ...rest } = i;
      const others = extension!.filter((e) => e.url !== MESSAGE_EXTENSION);
      const stored = i.diagnostics;
      const text = issueText({ ...(stored !== undefined ? { diagnostics: stored } : {}), message }, locale);
      const out: OperationOutcomeIssue = { ...rest, ...(others.length ? { extension: others } : {}), ...(text !== undefined ? { diagnostics: text } : {}) };
      if (out.details?.text !== undefined && out.details.text === stored && text !== undefined) out.details = { ...out.details, text };
      return out;
    }),
  };
}

/**
 * What went wrong, for an operator, from an error of a layer that stays free of the catalogues (the store, the data keys):
 * its `ref` (a catalogue key and parameters) said in `locale` when it carries one this build knows, else its own message;
 * a ConfigError-like `render(locale)` is used as is.
 */
export function errorText(err: unknown, locale: Locale): string {
  if (err && typeof err === 'object') {
    const { ref, render } = err as { ref?: unknown; render?: unknown };
    if (typeof render === 'function') return String((render as (l: Locale) => unknown).call(err, locale));
    if (ref && typeof ref === 'object' && typeof (ref as MessageRef).key === 'string' && hasMessage((ref as MessageRef).key)) {
      try {
        return renderRef(locale, ref as MessageRef);
      } catch {
        // a parameter missing from a stored ref: the error's own text still says what failed
      }
    }
  }
  return err instanceof Error ? err.message : String(err);
}
