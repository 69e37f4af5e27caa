// Strict strings (source records, configured names): FHIR strings forbid control characters (tab, CR and LF excepted), and text
// that reaches the platform must not carry lone UTF-16 surrogates (not valid Unicode) or bidirectional controls (they can make a
// name or an address read differently from what is stored). Messages give the character's code point and position, never the text.

import { renderMessage } from '../i18n/issues.js';

/** Bidirectional formatting controls: LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM and the Arabic letter mark. */
const isBidiControl = (c: number) => (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0x200e || c === 0x200f || c === 0x061c;
/** C0 (except tab, LF, CR), DEL and C1. */
const isControl = (c: number) => (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f);

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/** What is wrong with a string, as a catalogue message (messages/source.json, string.*) and its parameters. */
export interface StringProblem {
  key: 'source.string.surrogate' | 'source.string.control' | 'source.string.bidi';
  params: { char: string; position: number };
}

/** What is wrong with `s` as FHIR text (the first problem, with its 1-based character position), or undefined when it is clean. */
export function stringProblem(s: string): string | undefined {
  const problem = stringProblemOf(s);
  return problem && renderMessage('en', problem.key, problem.params);
}

/** stringProblem as a message (for text said in the reader's language). */
export function stringProblemOf(s: string): StringProblem | undefined {
  let pos = 0;
  for (let i = 0; i < s.length; i++) {
    pos++;
    const c = s.charCodeAt(i);
    // Fast path: printable ASCII is by far the most common.
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { key: 'source.string.surrogate', params: { char: hex(c), position: pos } };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { key: 'source.string.surrogate', params: { char: hex(c), position: pos } };
    if (isControl(c)) return { key: 'source.string.control', params: { char: hex(c), position: pos } };
    if (isBidiControl(c)) return { key: 'source.string.bidi', params: { char: hex(c), position: pos } };
  }
  return undefined;
}

/** Any character stringProblem() may object to (surrogates included, paired or not): most strings fail this quick test and are done. */
const SUSPECT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]/;

/** SUSPECT.test(s), with printable ASCII (nearly every string) answered by a character loop: SUSPECT matches nothing in U+0020–U+007E. */
function suspect(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return SUSPECT.test(s);
  }
  return false;
}

/** Every string in `value` that breaks the rules, as [JSON pointer, problem]; `skip` holds pointers not to enter (unknown fields,
 *  reported on their own without naming them). Pointers are built only for the strings reported. */
export function stringProblems(value: unknown, skip: ReadonlySet<string> = new Set()): Array<[string, StringProblem]> {
  const out: Array<[string, StringProblem]> = [];
  if (!anySuspect(value, 0)) return out;
  const path: string[] = [];
  // Keys are escaped (RFC 6901) only when a pointer is made: on the common path nothing is reported and no key needs it.
  const pointer = () => path.map((seg) => `/${seg.includes('~') || seg.includes('/') ? seg.replace(/~/g, '~0').replace(/\//g, '~1') : seg}`).join('');
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      const problem = suspect(v) ? stringProblemOf(v) : undefined;
      if (problem) out.push([pointer(), problem]);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(String(i));
        visit(v[i]);
        path.pop();
      }
    } else if (v !== null && typeof v === 'object') {
      // Object.keys + Object.values, not entries: the same own keys and values in the same order, without a pair array per key.
      const keys = Object.keys(v);
      const values = Object.values(v);
      for (let i = 0; i < keys.length; i++) {
        path.push(keys[i] as string);
        if (!(skip.size && skip.has(pointer()))) visit(values[i]);
        path.pop();
      }
    }
  };
  visit(value);
  return out;
}

/** Past this depth anySuspect answers yes and leaves the decision to the full walk (which skips unknown fields). */
const QUICK_DEPTH = 64;

/**
 * Whether any string in `value` could have a problem: a quick walk without paths, on which nearly every record stops. It looks at
 * everything the full walk would (inherited enumerable keys and the skipped fields too, so it can only say yes more often).
 */
function anySuspect(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return suspect(v);
  if (typeof v !== 'object' || v === null) return false;
  if (depth > QUICK_DEPTH) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (anySuspect(v[i], depth + 1)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (anySuspect(o[k], depth + 1)) return true;
  return false;
}
