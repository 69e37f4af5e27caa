// Layer 3: transaction Bundle rules (SATUSEHAT Kamus Validasi 20011, 20017–20021) and internal reference resolution.
import { issue, type Issue } from './outcome.js';
import { walkStrings } from './rule-engine.js';

/** Whether `s` from `from` on is a UUID (8-4-4-4-12 hex digits, either case): by hand, as a regex over a slice per entry cost more. */
function isUuidAt(s: string, from: number): boolean {
  if (s.length - from !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(from + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // '-'
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) return false; // 0-9 a-f A-F
  }
  return true;
}
const REF_KEYS = new Set(['reference']);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** fullUrl → resourceType for every entry, used to resolve `urn:uuid:` references and check their target types. */
export function entryTypes(bundle: Record<string, unknown>): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(bundle.entry)) return map;
  for (const e of bundle.entry) {
    if (isObj(e) && typeof e.fullUrl === 'string' && isObj(e.resource) && typeof e.resource.resourceType === 'string') {
      if (!map.has(e.fullUrl)) map.set(e.fullUrl, e.resource.resourceType);
    }
  }
  return map;
}

/** SATUSEHAT rules for a Bundle meant for `POST {FHIR base}`: transaction/batch, urn:uuid fullUrls, requests, references. */
export function checkBundle(bundle: Record<string, unknown>, base: string, out: Issue[]): void {
  if (bundle.type !== undefined && bundle.type !== 'transaction' && bundle.type !== 'batch') {
    out.push(issue('error', 'value', `Bundle.type must be 'transaction' (or 'batch') to be posted to SATUSEHAT`, `${base}.type`));
  }
  if (!Array.isArray(bundle.entry)) return;
  const seen = new Map<string, number>();
  const fullUrls = new Set<string>();
  bundle.entry.forEach((e: unknown, i: number) => {
    const at = `${base}.entry[${i}]`;
    if (!isObj(e)) return;
    const res = isObj(e.resource) ? e.resource : undefined;
    const type = typeof res?.resourceType === 'string' ? res.resourceType : 'resource';
    const fu = e.fullUrl;
    if (typeof fu !== 'string' || fu === '') {
      out.push(issue('error', 'required', `Invalid resource ${type}: missing fullUrl`, `${at}.fullUrl`, '20021'));
    } else {
      fullUrls.add(fu);
      if (!fu.startsWith('urn:uuid')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: it must begin with 'urn:uuid'`, `${at}.fullUrl`, '20018'));
      } else if (!fu.startsWith('urn:uuid:')) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl format: it must be 'urn:uuid:{uuid}'`, `${at}.fullUrl`, '20017'));
      } else if (!isUuidAt(fu, 9)) {
        out.push(issue('error', 'value', `Invalid ${type}.fullUrl: invalid UUID format`, `${at}.fullUrl`, '20019'));
      }
      const first = seen.get(fu);
      if (first !== undefined) out.push(issue('error', 'duplicate', `Invalid ${type}.fullUrl: duplicate of entry[${first}]`, `${at}.fullUrl`, '20020'));
      else seen.set(fu, i);
    }
    if (res?.resourceType === 'Bundle') out.push(issue('error', 'structure', 'A Bundle must not contain another Bundle', `${at}.resource`, '20011'));
    if (!res) out.push(issue('error', 'required', 'Bundle entry has no resource', `${at}.resource`));
    const req = e.request;
    if (!isObj(req)) {
      out.push(issue('error', 'required', 'Bundle entry needs request {method, url} in a transaction', `${at}.request`));
    } else {
      if (typeof req.method !== 'string') out.push(issue('error', 'required', 'Bundle entry request needs a method', `${at}.request.method`));
      if (typeof req.url !== 'string' || req.url === '') out.push(issue('error', 'required', 'Bundle entry request needs a url', `${at}.request.url`));
      else if (req.method === 'POST' && res && typeof res.resourceType === 'string' && req.url.split(/[/?]/)[0] !== res.resourceType) {
        out.push(issue('error', 'value', `POST request url must be the resource type '${res.resourceType}'`, `${at}.request.url`));
      }
    }
  });
  // Every internal reference must resolve; conditional references (Patient?identifier=...) are resolved by sync, not here.
  const unresolved = (ref: string) => ref.startsWith('urn:uuid:') && !fullUrls.has(ref);
  bundle.entry.forEach((e: unknown, i: number) => {
    if (!isObj(e) || !isObj(e.resource)) return;
    walkStrings(e.resource, `${base}.entry[${i}].resource`, REF_KEYS, unresolved, (_ref, at) => {
      out.push(issue('error', 'not-found', 'Reference does not resolve to any entry fullUrl in this Bundle', at));
    });
  });
}
