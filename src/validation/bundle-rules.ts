// Layer 3: transaction Bundle rules (SATUSEHAT Kamus Validasi 20011, 20017–20021) and internal reference resolution.
import { issue, type Issue } from './outcome.js';
import { walkStrings } from './rule-engine.js';

/** 1 for the ASCII codes of 0-9 a-f A-F. */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/** Whether `s` from `from` on is a UUID (8-4-4-4-12 hex digits, either case): by hand, as a regex over a slice per entry cost more. */
function isUuidAt(s: string, from: number): boolean {
  if (s.length - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // '-'
    } else if (c >= 128 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}
const REF_KEYS = new Set(['reference']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether the first segment of a request url (up to '/' or '?') is `type`, without splitting the url. */
function firstSegmentIs(url: string, type: string): boolean {
  let end = 0;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63) break; // '/' '?'
    end++;
  }
  return end === type.length && url.startsWith(type);
}

type UrlSet = { has(url: string): boolean };
const isUnresolved = (key: string, x: string, fullUrls: UrlSet) => key === 'reference' && x.startsWith('urn:uuid:') && !fullUrls.has(x);
/** Past this depth the quick walk gives up and says "look" (deep input must not overflow the stack); recursion is faster for the usual depths. */
const MAX_RECURSION = 64;

/**
 * For the profile rules' URI-scheme check (rule-engine.ts CompiledRules.uriSchemePrefix): `prefix` matches the start of every
 * system/url value any such rule could report. checkBundle sets `clear[i]` to true when entry i's resource has neither an unresolved
 * `urn:uuid:` reference nor such a value, so the profile rules may skip their own search of it (RuleContext.uriSchemeClear).
 */
export interface UriScan {
  readonly prefix: RegExp;
  readonly clear: boolean[];
}
/** Matches nothing: the quick walk without a URI-scheme scan. */
const NO_PREFIX = /(?!)/;

/**
 * The quick walk over every resource of every Bundle, by hand and without callbacks (almost none has a match): whether some string
 * in `v` needs a closer look, i.e. a `reference` that is a `urn:uuid:` no entry's fullUrl names, a `system`/`url` that `uriPrefix`
 * matches, or anything deeper than MAX_RECURSION. Objects and arrays have a function each (each stays monomorphic), and a value is
 * first asked whether it is an object (most are strings to pass over: only those under the three keys need a look).
 */
function needsLook(v: object, fullUrls: UrlSet, uriPrefix: RegExp, depth: number): boolean {
  return Array.isArray(v) ? needsLookInArray(v, fullUrls, uriPrefix, depth) : needsLookInObject(v as Record<string, unknown>, fullUrls, uriPrefix, depth);
}

function needsLookInArray(a: unknown[], fullUrls: UrlSet, uriPrefix: RegExp, depth: number): boolean {
  if (depth > MAX_RECURSION) return true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x === 'object' && x !== null && (Array.isArray(x) ? needsLookInArray(x, fullUrls, uriPrefix, depth + 1) : needsLookInObject(x as Record<string, unknown>, fullUrls, uriPrefix, depth + 1))) return true;
  }
  return false;
}

function needsLookInObject(o: Record<string, unknown>, fullUrls: UrlSet, uriPrefix: RegExp, depth: number): boolean {
  if (depth > MAX_RECURSION) return true;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object') {
      if (x !== null && (Array.isArray(x) ? needsLookInArray(x, fullUrls, uriPrefix, depth + 1) : needsLookInObject(x as Record<string, unknown>, fullUrls, uriPrefix, depth + 1))) return true;
    } else if (typeof x === 'string') {
      if (k === 'reference') {
        if (x.startsWith('urn:uuid:') && !fullUrls.has(x)) return true;
      } else if ((k === 'system' || k === 'url') && uriPrefix.test(x)) return true;
    }
  }
  return false;
}

/**
 * Whether some string under a `reference` key anywhere in `root` is a `urn:uuid:` reference that no entry's fullUrl names: the
 * same search as walkStrings' first pass without callbacks, with an explicit stack (any depth); run only where needsLook said "look".
 */
function hasUnresolvedReference(root: object, fullUrls: UrlSet): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' && v[i] !== null) stack.push(v[i]);
    } else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (typeof x === 'string') {
          if (isUnresolved(k, x, fullUrls)) return true;
        } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
  return false;
}

/**
 * SATUSEHAT rules for a Bundle meant for `POST {FHIR base}`: transaction/batch, urn:uuid fullUrls, requests, references.
 * Returns fullUrl → resourceType of the entries (the first entry of each fullUrl), for resolving `urn:uuid:` references and
 * checking their target types; gathered in the same pass over the entries.
 */
export function checkBundle(bundle: Record<string, unknown>, base: string, out: Issue[], uriScan?: UriScan): Map<string, string> {
  const types = new Map<string, string>();
  if (bundle.type !== undefined && bundle.type !== 'transaction' && bundle.type !== 'batch') {
    out.push(issue('error', 'value', `Bundle.type must be 'transaction' (or 'batch') to be posted to SATUSEHAT`, `${base}.type`));
  }
  const entries = bundle.entry;
  if (!Array.isArray(entries)) return types;
  const seen = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (!isObj(e)) continue;
    const res = isObj(e.resource) ? e.resource : undefined;
    const rt = res?.resourceType;
    const type = typeof rt === 'string' ? rt : 'resource';
    const fu = e.fullUrl;
    // A non-empty fullUrl not seen before cannot be in `types` yet (it is entered in `seen` below whenever it is in `types`), so
    // only a repeated or empty one needs types.has: one Map lookup fewer per entry.
    const first = typeof fu === 'string' && fu !== '' ? seen.get(fu) : undefined;
    if (typeof fu === 'string' && typeof rt === 'string' && ((first === undefined && fu !== '') || !types.has(fu))) types.set(fu, rt);
    if (typeof fu !== 'string' || fu === '') {
      out.push(issue('error', 'required', `Invalid resource ${type}: missing fullUrl`, `${base}.entry[${i}].fullUrl`, '20021'));
    } else {
      if (!fu.startsWith('urn:uuid')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: it must begin with 'urn:uuid'`, `${base}.entry[${i}].fullUrl`, '20018'));
      } else if (!fu.startsWith('urn:uuid:')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl format: it must be 'urn:uuid:{uuid}'`, `${base}.entry[${i}].fullUrl`, '20017'));
      } else if (!isUuidAt(fu, 9)) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: invalid UUID format`, `${base}.entry[${i}].fullUrl`, '20019'));
      }
      // The first entry of each fullUrl is kept: `seen` is also the set of fullUrls that references resolve against.
      if (first !== undefined) out.push(issue('error', 'duplicate', `Invalid ${type}.fullUrl: duplicate of entry[${first}]`, `${base}.entry[${i}].fullUrl`, '20020'));
      else seen.set(fu, i);
    }
    if (rt === 'Bundle') out.push(issue('error', 'structure', 'A Bundle must not contain another Bundle', `${base}.entry[${i}].resource`, '20011'));
    if (!res) out.push(issue('error', 'required', 'Bundle entry has no resource', `${base}.entry[${i}].resource`));
    const req = e.request;
    if (!isObj(req)) {
      out.push(issue('error', 'required', 'Bundle entry needs request {method, url} in a transaction', `${base}.entry[${i}].request`));
    } else {
      if (typeof req.method !== 'string') out.push(issue('error', 'required', 'Bundle entry request needs a method', `${base}.entry[${i}].request.method`));
      if (typeof req.url !== 'string' || req.url === '') out.push(issue('error', 'required', 'Bundle entry request needs a url', `${base}.entry[${i}].request.url`));
      else if (req.method === 'POST' && typeof rt === 'string' && !firstSegmentIs(req.url, rt)) {
        out.push(issue('error', 'value', `POST request url must be the resource type '${rt}'`, `${base}.entry[${i}].request.url`));
      }
    }
  }
  // Every internal reference must resolve; conditional references (Patient?identifier=...) are resolved by sync, not here.
  // Locations are built (walkStrings) only for an entry that has an unresolved one. The quick walk also looks for the profile
  // rules' URI-scheme values (uriScan), so that one walk of each resource serves both.
  const fullUrls = seen;
  const unresolved = (ref: string) => ref.startsWith('urn:uuid:') && !fullUrls.has(ref);
  const uriPrefix = uriScan ? uriScan.prefix : NO_PREFIX;
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (!isObj(e) || !isObj(e.resource)) continue;
    const look = needsLook(e.resource, fullUrls, uriPrefix, 0);
    if (uriScan) uriScan.clear[i] = !look;
    if (!look || !hasUnresolvedReference(e.resource, fullUrls)) continue;
    walkStrings(e.resource, `${base}.entry[${i}].resource`, REF_KEYS, unresolved, (_ref, at) => {
      out.push(issue('error', 'not-found', 'Reference does not resolve to any entry fullUrl in this Bundle', at));
    });
  }
  return types;
}
