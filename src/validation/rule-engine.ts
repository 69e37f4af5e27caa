// Layer 2: SATUSEHAT profile rules, kept as data (profiles/satusehat-rules.json) and compiled once, at load.
// A rule = where (resourceType + FHIRPath-like path), when (simple conditions), what (a check kind), and how bad
// (severity, confidence). This file knows the check kinds' runtime pieces; it knows nothing about particular SATUSEHAT elements.
// Compiled per resource type and layer into one generated function (rule-codegen.ts writes its source from the rule data, this
// file makes it with new Function): the rules in file order, each reading its paths in place, nothing allocated while a resource
// passes; FHIRPath locations and Issues are built only for a finding. The findings are pinned to the earlier interpreter, kept
// in tests/validation/reference/, by the rule-engine equivalence tests (samples, fixtures, official examples, their mutants, and a
// rule set written to reach every path of the generator).
import { issue, type Issue, type Severity } from './outcome.js';
import { ORG_IDENTIFIER_BASE } from '../util/systems.js';
import { epochMsOf } from './parse-datetime.js';
import { escapeRegExp, generateLayer, type PlannedCheck, type RUNTIME_NAMES } from './rule-codegen.js';

export type Confidence = 'OFF' | 'OFF-copy' | 'OFF-draft' | 'COM' | 'UNV';

export type Check =
  | { kind: 'required' }
  | { kind: 'reference'; targets: string[]; mode?: 'all' | 'any' }
  /** `required` (mode `any` only): no coding at all is also a failure of this rule (e.g. 10010: code.text alone is not enough). */
  | { kind: 'systems'; mode: 'all' | 'any' | 'codes'; systems: Record<string, string[] | null>; required?: boolean }
  /**
   * Per CodeableConcept at `path` (each one of a repeating element, each component's, on its own). Without `unlisted`: a concept
   * whose codings come from none of `systems` fails (`required`: a concept without coding fails too). With `unlisted`: a concept
   * with no coding from `systems` but one from `unlisted` is reported at that coding — systems the official examples use but
   * the Kamus rule list does not name (a warning rule, next to an error rule whose `systems` include them).
   */
  | { kind: 'codeableSystems'; systems: string[]; unlisted?: string[]; required?: boolean }
  | { kind: 'codingPresent'; system: string; code: string }
  | { kind: 'codeFormat'; system: string; pattern: string }
  | { kind: 'identifierValue'; systems: string[]; pattern: string }
  | { kind: 'orgIdentifier'; kinds: string[]; required: boolean; strict?: boolean; consistentWith?: string }
  | { kind: 'dateTimeFormat' }
  | { kind: 'dateTimeUtc' }
  | { kind: 'dateTimeRange'; notBefore?: string; notFuture?: boolean }
  | { kind: 'after'; other: string }
  /** The calendar date of `path` must be later than that of `other` (as written, no time zone shift); `allowSameDay` relaxes to not-before. */
  | { kind: 'dateAfter'; other: string; allowSameDay?: boolean }
  | { kind: 'ucumSystem' }
  /** `notUcum`: frequent non-UCUM spellings → the UCUM code to use (UCUM syntax alone lets `mmHg` through); or the id of an
   *  earlier ucumCode rule whose list applies here too (one list for valueQuantity and component.valueQuantity). */
  | { kind: 'ucumCode'; notUcum?: Record<string, string> | string }
  | { kind: 'positiveInt' }
  | { kind: 'containsAll'; values: string[] }
  | { kind: 'uriScheme'; fixes: { wrong: string; right: string }[] };

export interface Condition {
  path: string;
  equals?: string | number | boolean;
  notEquals?: string | number | boolean;
}

export interface RuleDef {
  id: string;
  /** Kamus Validasi rule number, when there is one. */
  rule?: string;
  /** `base-r4` rules also run in base-only mode; default layer is `satusehat`. */
  layer?: 'base-r4' | 'satusehat';
  resourceType: string;
  path?: string;
  paths?: string[];
  when?: Condition[];
  check: Check;
  severity: Severity;
  confidence: Confidence;
  source?: string;
  /** What is still to confirm in the SATUSEHAT sandbox about a rule whose text is official but whose enforcement is not known. */
  toConfirm?: string;
  message: string;
}

export interface RuleSet {
  version: string;
  rules: RuleDef[];
}

/** Per-call facts the rules may use. Never read from a clock or global: passed in by the caller. */
export interface RuleContext {
  nowMs: number;
  organizationId?: string;
  /** fullUrl → resourceType of the Bundle entries, to resolve `urn:uuid:` references. */
  refTypes?: ReadonlyMap<string, string>;
  /**
   * True when the caller has already searched this resource and no system/url value in it matches uriSchemePrefix (checkBundle
   * does, in its walk of each entry): the URI-scheme rules then skip their own search, which could find nothing.
   */
  uriSchemeClear?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && !hasOwnKey(v));
/** Object.keys(v).length > 0 without building the list (every `required` check on an element asks it). */
function hasOwnKey(v: Record<string, unknown>): boolean {
  for (const k in v) if (Object.hasOwn(v, k)) return true;
  return false;
}

const DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isDigit0to5 = (c: number): boolean => c >= 48 && c <= 53;
/**
 * A full date-time with seconds and an offset (FHIR dateTime allows less; SATUSEHAT does not): what the regex
 * /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/
 * says, by hand (the date rules test every date-time; tests/validation/rule-engine-datetime.test.ts compares them).
 */
export function isFullDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20) return false;
  const c = (i: number) => s.charCodeAt(i);
  // YYYY-MM-DDThh:mm:ss, month 01–12, day 01–31, hour 00–23, second 00–60
  if (!(isDigit(c(0)) && isDigit(c(1)) && isDigit(c(2)) && isDigit(c(3)) && c(4) === 45 && c(7) === 45 && c(10) === 84 && c(13) === 58 && c(16) === 58)) return false;
  const m1 = c(5), m2 = c(6), d1 = c(8), d2 = c(9), h1 = c(11), h2 = c(12), s1 = c(17), s2 = c(18);
  if (!((m1 === 48 && m2 >= 49 && m2 <= 57) || (m1 === 49 && m2 >= 48 && m2 <= 50))) return false;
  if (!((d1 === 48 && d2 >= 49 && d2 <= 57) || ((d1 === 49 || d1 === 50) && isDigit(d2)) || (d1 === 51 && (d2 === 48 || d2 === 49)))) return false;
  if (!(((h1 === 48 || h1 === 49) && isDigit(h2)) || (h1 === 50 && h2 >= 48 && h2 <= 51))) return false;
  if (!(isDigit0to5(c(14)) && isDigit(c(15)))) return false;
  if (!((isDigit0to5(s1) && isDigit(s2)) || (s1 === 54 && s2 === 48))) return false;
  let i = 19;
  if (c(i) === 46) {
    // .fff: one digit or more
    const start = ++i;
    while (i < n && isDigit(c(i))) i++;
    if (i === start) return false;
  }
  const zone = c(i);
  if (zone === 90) return i + 1 === n; // Z
  if ((zone !== 43 && zone !== 45) || i + 6 !== n || c(i + 3) !== 58) return false;
  const a = c(i + 1), b = c(i + 2), e = c(i + 4), f = c(i + 5);
  // ±hh:mm with hh 00–13, or ±14:00
  return (((a === 48 && isDigit(b)) || (a === 49 && b >= 48 && b <= 51)) && isDigit0to5(e) && isDigit(f)) || (a === 49 && b === 52 && e === 48 && f === 48);
}
// UCUM expressions are printable ASCII without spaces (e.g. kg, mm[Hg], /min, Cel, %, kg/m2, {score}, 10*3/uL).
const UCUM_SYNTAX = /^[!-~]+$/;
// The facilities' identifier namespace from mappings/systems.json; under either scheme for the strict check (any sys-ids identifier).
const SYS_IDS = new RegExp(`^https?://${escapeRegExp(ORG_IDENTIFIER_BASE.replace(/^https?:\/\//, ''))}`);

/** The resource type a literal reference points to; undefined when it cannot be known here (urn:uuid outside a Bundle, #contained). */
export function referenceType(ref: string, refTypes?: ReadonlyMap<string, string>): string | undefined | null {
  if (ref.startsWith('urn:')) return refTypes?.get(ref);
  if (ref.startsWith('#')) return undefined;
  const q = ref.indexOf('?');
  if (q > 0) return /^[A-Z][A-Za-z]+$/.test(ref.slice(0, q)) ? ref.slice(0, q) : null; // conditional: Patient?identifier=...
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(ref);
  return m ? m[1] : null;
}

/**
 * `ref` is `{type}/{id}` with an id of 1–64 FHIR id characters and nothing else: then referenceType(ref) is `type` (the
 * usual literal reference, read without the regex and its match array). `type` is a resource type name ([A-Z][A-Za-z]+).
 */
function isTypedId(ref: string, type: string): boolean {
  const start = type.length + 1;
  const n = ref.length;
  if (n <= start || n - start > 64 || !ref.startsWith(type) || ref.charCodeAt(type.length) !== 47) return false;
  for (let i = start; i < n; i++) {
    const c = ref.charCodeAt(i);
    // A-Z a-z 0-9 - .
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46)) return false;
  }
  return true;
}

/** The id of `Organization/{id}` in `res[c.consistentWith].reference` ({id} without / ? #), undefined when it is not one. */
function referencedOrg(res: Record<string, unknown>, c: { consistentWith: string }): string | undefined {
  const sp = res[c.consistentWith];
  const ref = isObj(sp) ? sp.reference : undefined;
  if (typeof ref !== 'string' || ref.length <= 13 || !ref.startsWith('Organization/')) return undefined;
  for (let i = 13; i < ref.length; i++) {
    const ch = ref.charCodeAt(i);
    if (ch === 47 || ch === 63 || ch === 35) return undefined; // / ? #
  }
  return ref.slice(13);
}

/** The first ten characters (a calendar date) of `a` and `b` compared as strings are: -1, 0 or 1 (both have ten or more). */
function firstTen(a: string, b: string): number {
  for (let i = 0; i < 10; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * A pure function of a string that remembers its last two answers. The date rules read each date-time two or three times
 * (format, range, UTC), and the resources of one Bundle mostly carry the same few times (the visit's): same results, less work.
 */
function lastTwo<T>(f: (s: string) => T): (s: string) => T {
  let a: string | undefined;
  let b: string | undefined;
  let ra = undefined as T;
  let rb = undefined as T;
  return (s) => {
    if (s === a) return ra;
    if (s !== b) {
      rb = f(s);
      b = s;
    }
    // s becomes the newer one
    b = a;
    a = s;
    const r = rb;
    rb = ra;
    ra = r;
    return r;
  };
}
const epochOf = lastTwo(epochMsOf);
const isFullDateTimeOf = lastTwo(isFullDateTime);

/**
 * someString(root, URI_KEYS, re.test) for the generated code: by recursion while shallow (no stack array, no Set per key), the
 * iterative walk below for what lies deeper (deep input must not overflow the stack).
 */
function hasUri(v: unknown, re: RegExp, depth: number): boolean {
  if (depth > 32) return someString(v, URI_KEYS, (x) => re.test(x));
  if (Array.isArray(v)) {
    for (let i = v.length - 1; i >= 0; i--) if (hasUri(v[i], re, depth + 1)) return true;
    return false;
  }
  if (!isObj(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (typeof x === 'string') {
      if ((k === 'system' || k === 'url') && re.test(x)) return true;
    } else if (typeof x === 'object' && x !== null && hasUri(x, re, depth + 1)) return true;
  }
  return false;
}

function emit(out: Issue[], rule: RuleDef, code: Issue['code'], at: string, detail?: string): void {
  const i = issue(rule.severity, code, detail ? `${rule.message}: ${detail}` : rule.message, at, rule.rule);
  i.ruleId = rule.id;
  out.push(i);
}

const URI_KEYS = new Set(['system', 'url']);

/** What the generated code calls (by these names: RUNTIME_NAMES in rule-codegen.ts). */
const RUNTIME: Record<(typeof RUNTIME_NAMES)[number], unknown> = {
  emit, isEmpty, referenceType, epochOf, isFullDateTime: isFullDateTimeOf, DATE_PREFIX, UCUM_SYNTAX, SYS_IDS, isTypedId, referencedOrg, hasUri, walkStrings, URI_KEYS, firstTen,
};

type LayerFn = (res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[]) => void;

/** Turns generated source into the layer's function (the source is made from profiles/ only; see rule-codegen.ts). */
function instantiate(checks: readonly PlannedCheck[], name: string): LayerFn {
  const { source, constants } = generateLayer(checks, name);
  return (new Function('rt', 'K', source) as (rt: unknown, K: readonly unknown[]) => LayerFn)(RUNTIME, constants);
}

/**
 * Iterative walks (deep input must not overflow the stack) over the string values under the given keys: `visit` is called, with
 * the value's FHIRPath location, for each value `matches` accepts. Every resource is walked and almost none has a match, so a first
 * walk only looks; locations are built in a second walk, when there is something to report (building them was most of the cost).
 */
export function walkStrings(root: unknown, base: string, keys: ReadonlySet<string>, matches: (value: string) => boolean, visit: (value: string, at: string) => void): void {
  if (!someString(root, keys, matches)) return;
  const stack: Array<{ v: unknown; p: string }> = [{ v: root, p: base }];
  while (stack.length) {
    const { v, p } = stack.pop() as { v: unknown; p: string };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' && v[i] !== null) stack.push({ v: v[i], p: `${p}[${i}]` });
    } else if (isObj(v)) {
      for (const k in v) {
        const x = v[k];
        if (typeof x === 'string') {
          if (keys.has(k) && matches(x)) visit(x, `${p}.${k}`);
        } else if (typeof x === 'object' && x !== null) stack.push({ v: x, p: `${p}.${k}` });
      }
    }
  }
}

function someString(root: unknown, keys: ReadonlySet<string>, matches: (value: string) => boolean): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) if (typeof v[i] === 'object' && v[i] !== null) stack.push(v[i]);
    } else if (isObj(v)) {
      for (const k in v) {
        const x = v[k];
        if (typeof x === 'string') {
          if (keys.has(k) && matches(x)) return true;
        } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
  return false;
}

export interface CompiledRules {
  readonly version: string;
  readonly rules: readonly RuleDef[];
  /**
   * Matches the start of every value any uriScheme rule reports (their wrong prefixes, all types and layers); nothing if none.
   * Optional so that engines without it (the test oracle) still fit; compileRules always sets it.
   */
  readonly uriSchemePrefix?: RegExp;
  /** Runs one layer of rules for `res` (located at FHIRPath `base`): `base` = base-R4 cardinality, `profile` = SATUSEHAT. */
  run(res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[], layer: 'base' | 'profile'): void;
}

/** Validates the rule data and compiles it once. Throws on malformed data (caught at start-up, not per request). */
export function compileRules(set: RuleSet): CompiledRules {
  if (!set || typeof set.version !== 'string' || !Array.isArray(set.rules)) throw new Error('rules file: needs "version" and "rules"');
  // Per resource type and layer: the rule paths in file order.
  const byType = new Map<string, { base: PlannedCheck[]; profile: PlannedCheck[] }>();
  const ids = new Map<string, RuleDef>();
  for (const rule of set.rules) {
    if (ids.has(rule.id)) throw new Error(`rules file: duplicate id ${rule.id}`);
    if (rule.confidence === 'UNV' && rule.severity === 'error') throw new Error(`rule ${rule.id}: an unconfirmed (UNV) rule must not be an error`);
    if (rule.rule !== undefined && !/^\d{5}$/.test(rule.rule)) throw new Error(`rule ${rule.id}: rule number must be 5 digits`);
    let notUcum: Record<string, string> | undefined;
    if (rule.check.kind === 'ucumCode' && typeof rule.check.notUcum === 'string') {
      const other = ids.get(rule.check.notUcum);
      if (other?.check.kind !== 'ucumCode' || typeof other.check.notUcum !== 'object') throw new Error(`rule ${rule.id}: notUcum must name an earlier ucumCode rule with a list`);
      notUcum = other.check.notUcum;
    } else if (rule.check.kind === 'ucumCode') notUcum = rule.check.notUcum as Record<string, string> | undefined;
    let slot = byType.get(rule.resourceType);
    if (!slot) byType.set(rule.resourceType, (slot = { base: [], profile: [] }));
    for (const path of rule.paths ?? [rule.path ?? '']) (rule.layer === 'base-r4' ? slot.base : slot.profile).push({ rule, path, notUcum });
    ids.set(rule.id, rule);
  }
  // One function per resource type and layer: its own rules, then those of every type (`*`), as run() always did.
  const star = byType.get('*') ?? { base: [], profile: [] };
  const fns = new Map<string, { base: LayerFn; profile: LayerFn }>();
  const noRules: LayerFn = () => {};
  let n = 0;
  const make = (checks: readonly PlannedCheck[]): LayerFn => (checks.length ? instantiate(checks, `rules${n++}`) : noRules);
  for (const [type, slot] of byType) fns.set(type, { base: make([...slot.base, ...star.base]), profile: make([...slot.profile, ...star.profile]) });
  const anyType = { base: make(star.base), profile: make(star.profile) };
  const wrongUris = set.rules.flatMap((r) => (r.check.kind === 'uriScheme' ? r.check.fixes.map((f) => escapeRegExp(f.wrong)) : []));
  return {
    version: set.version,
    rules: set.rules,
    uriSchemePrefix: wrongUris.length ? new RegExp(`^(?:${wrongUris.join('|')})`) : /(?!)/,
    run(res, base, ctx, out, layer) {
      const slot = fns.get(res.resourceType as string) ?? anyType;
      (layer === 'base' ? slot.base : slot.profile)(res, base, ctx, out);
    },
  };
}
