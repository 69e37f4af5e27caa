// Layer 2: SATUSEHAT profile rules, kept as data (profiles/satusehat-rules.json) and compiled once into closures.
// A rule = where (resourceType + FHIRPath-like path), when (simple conditions), what (a check kind), and how bad
// (severity, confidence). This file knows the check kinds; it knows nothing about particular SATUSEHAT elements.
// Compiled per resource type and layer: the paths of all its rules form one trie (`component.code` and `component.valueQuantity`
// share `component`), walked once per resource by a generated function (compileWalk) before the rules read their paths' values
// from it (about 40 rules per Observation read about 25 distinct paths; one walk per rule before). The findings are pinned to
// that earlier interpreter, kept in tests/validation/reference/, by the rule-engine-equivalence tests.
import { issue, type Issue, type Severity } from './outcome.js';
import { ORG_IDENTIFIER_BASE } from '../util/systems.js';
import { epochMsOf } from './parse-datetime.js';

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
}

/** A value found at a path. Its FHIRPath location is built on first read of `p`: only a reported finding needs it, and building one
 *  string per value was a good part of running the rules. */
class Found {
  private loc: string | undefined;
  /** `seg` (`.code`) and `index` (≥ 0 for an array item) place the value under `parent`; the root carries its location as `seg`. */
  constructor(readonly v: unknown, private readonly parent: Found | undefined, private readonly seg: string, private readonly index = -1) {}
  get p(): string {
    if (this.loc === undefined) {
      const at = this.parent ? this.parent.p + this.seg : this.seg;
      this.loc = this.index >= 0 ? `${at}[${this.index}]` : at;
    }
    return this.loc;
  }
}
type Getter = ((root: Record<string, unknown>, base: string) => readonly Found[]) & { from: (start: Found) => readonly Found[] };
/** A path's values in the current run (shared by every rule reading that path: never mutate the list). */
type RunGetter = (run: Run) => readonly Found[];
type Compiled = (res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[], run: Run) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && !hasOwnKey(v));
/** Object.keys(v).length > 0 without building the list (every `required` check on an element asks it). */
function hasOwnKey(v: Record<string, unknown>): boolean {
  for (const k in v) if (Object.hasOwn(v, k)) return true;
  return false;
}

/** Compiles `a.b.c` / `effective[x]` into a getter returning every value with its FHIRPath location (arrays flattened). `from`
 *  starts the walk at an earlier finding (its location then prefixes the new ones). */
export function compilePath(path: string): Getter {
  const segs = path ? path.split('.').map(toSegment) : [];
  const getter = (start: Found): readonly Found[] => {
    let cur: readonly Found[] = [start];
    for (let s = 0; s < segs.length && cur.length > 0; s++) cur = step(cur, segs[s]);
    return cur;
  };
  const get = ((root: Record<string, unknown>, base: string) => getter(new Found(root, undefined, base))) as Getter;
  get.from = getter;
  return get;
}

/** A path segment with what is fixed at compile time: the choice-type prefix (`effective` of `effective[x]`), the location suffix. */
interface Segment { readonly name: string; readonly choice: string | undefined; readonly suffix: string }
const toSegment = (name: string): Segment => ({ name, choice: name.endsWith('[x]') ? name.slice(0, -3) : undefined, suffix: `.${name}` });

/** The values one segment below `cur` (arrays flattened, in order); no list is allocated when there are none (the usual case). */
function step(cur: readonly Found[], segment: Segment): readonly Found[] {
  let next: Found[] | undefined;
  const { choice, name: seg, suffix } = segment;
  for (let j = 0; j < cur.length; j++) {
    const f = cur[j];
    const v = f.v;
    if (!isObj(v)) continue;
    if (choice !== undefined) {
      for (const k in v) {
        if (k.length > choice.length && k.startsWith(choice) && k.charCodeAt(choice.length) >= 65 && k.charCodeAt(choice.length) <= 90) {
          const x = v[k];
          if (x !== undefined && x !== null) push((next ??= []), x, f, `.${k}`);
        }
      }
    } else {
      const x = v[seg];
      if (x !== undefined && x !== null) push((next ??= []), x, f, suffix);
    }
  }
  return next ?? NONE;
}

const NONE: readonly Found[] = Object.freeze([]);

/** A trie node: a path is its parent's path plus one segment (node 0 = the resource itself). */
interface PathNode { readonly parent: number; readonly seg: Segment }

/** The paths of one resource type's rules, interned into a trie at compile time. */
class PathPlan {
  readonly nodes: PathNode[] = [{ parent: -1, seg: toSegment('') }];
  private readonly ids = new Map<string, number>([['', 0]]);

  getter(path: string): RunGetter {
    const id = this.intern(path);
    return (run) => run.values(id);
  }

  private intern(path: string): number {
    let id = this.ids.get(path);
    if (id === undefined) {
      const dot = path.lastIndexOf('.');
      const parent = dot < 0 ? 0 : this.intern(path.slice(0, dot));
      id = this.nodes.push({ parent, seg: toSegment(path.slice(dot + 1)) }) - 1;
      this.ids.set(path, id);
    }
    return id;
  }
}

/** Every path's values in one resource, by trie node id. */
type Walk = (root: Found) => ReadonlyArray<readonly Found[]>;

/**
 * Generates the walk of a plan (at start-up, from the project's own profiles/, never from input): one function per resource
 * type and layer, one statement per trie node, each child read with its property name written out. Written out, each read has
 * its own inline cache and stays monomorphic; the same read in one shared step() saw every property of every resource type
 * and was the engine's main cost. Names are embedded with JSON.stringify; choice types (`effective[x]`) go through step().
 */
function compileWalk(nodes: readonly PathNode[]): Walk {
  const lines = ['const m0 = [root];'];
  for (let i = 1; i < nodes.length; i++) {
    const { parent, seg } = nodes[i];
    if (seg.choice !== undefined) {
      lines.push(`const m${i} = m${parent}.length === 0 ? NONE : step(m${parent}, segs[${i}]);`);
      continue;
    }
    lines.push(
      `let m${i} = NONE;`,
      `for (let j = 0; j < m${parent}.length; j++) {`,
      `  const f = m${parent}[j], v = f.v;`,
      `  if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;`,
      `  const x = v[${JSON.stringify(seg.name)}];`,
      `  if (x === undefined || x === null) continue;`,
      `  if (m${i} === NONE) m${i} = [];`,
      `  push(m${i}, x, f, ${JSON.stringify(seg.suffix)});`,
      '}',
    );
  }
  lines.push(`return [${nodes.map((_, i) => `m${i}`).join(', ')}];`);
  const make = new Function('step', 'push', 'NONE', 'segs', `'use strict';\nreturn function walk(root) {\n${lines.join('\n')}\n};`) as (...deps: unknown[]) => Walk;
  return make(step, push, NONE, nodes.map((n) => n.seg));
}

/** One run of a resource type's rules over one resource: each path's values, walked once before the first rule. */
class Run {
  constructor(private readonly memo: ReadonlyArray<readonly Found[]>) {}
  values(id: number): readonly Found[] {
    return this.memo[id];
  }
}

function push(into: Found[], v: unknown, parent: Found, seg: string): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (v[i] !== undefined && v[i] !== null) into.push(new Found(v[i], parent, seg, i));
  } else into.push(new Found(v, parent, seg));
}

// Full date-time with seconds and an offset (FHIR dateTime allows less; SATUSEHAT does not).
const FULL_DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/;
const UTC_SUFFIX = /(\+00:00|Z)$/;
const DATE_PREFIX = /^\d{4}-\d{2}-\d{2}/;
// UCUM expressions are printable ASCII without spaces (e.g. kg, mm[Hg], /min, Cel, %, kg/m2, {score}, 10*3/uL).
const UCUM_SYNTAX = /^[!-~]+$/;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// The facilities' identifier namespace from mappings/systems.json; under either scheme for the strict check (any sys-ids identifier).
const SYS_IDS = new RegExp(`^https?://${escapeRegExp(ORG_IDENTIFIER_BASE.replace(/^https?:\/\//, ''))}`);
const ORG_REF = /^Organization\/([^/?#]+)$/;

/** The resource type a literal reference points to; undefined when it cannot be known here (urn:uuid outside a Bundle, #contained). */
export function referenceType(ref: string, refTypes?: ReadonlyMap<string, string>): string | undefined | null {
  if (ref.startsWith('urn:')) return refTypes?.get(ref);
  if (ref.startsWith('#')) return undefined;
  const q = ref.indexOf('?');
  if (q > 0) return /^[A-Z][A-Za-z]+$/.test(ref.slice(0, q)) ? ref.slice(0, q) : null; // conditional: Patient?identifier=...
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(ref);
  return m ? m[1] : null;
}

function compileConditions(conds: Condition[] | undefined, plan: PathPlan): ((run: Run) => boolean) | undefined {
  if (!conds?.length) return undefined;
  const compiled = conds.map((c) => {
    const get = plan.getter(c.path);
    return (run: Run) => {
      const vals = get(run);
      if ('equals' in c) return vals.some((f) => f.v === c.equals);
      if ('notEquals' in c) return !vals.some((f) => f.v === c.notEquals);
      return vals.length > 0;
    };
  });
  return (run) => compiled.every((f) => f(run));
}

/** Splits `a.b.c` into parent `a.b` and leaf `c` (required-checks report a missing leaf under each present parent). */
function splitLeaf(path: string): [string, string] {
  const i = path.lastIndexOf('.');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

function compileCheck(rule: RuleDef, path: string, earlier: ReadonlyMap<string, RuleDef>, plan: PathPlan): Compiled {
  const c = rule.check;
  const rn = rule.rule;
  const sev = rule.severity;
  const emit = (out: Issue[], code: Issue['code'], at: string, detail?: string) => {
    const i = issue(sev, code, detail ? `${rule.message}: ${detail}` : rule.message, at, rn);
    i.ruleId = rule.id;
    out.push(i);
  };
  const get = plan.getter(path);

  switch (c.kind) {
    case 'required': {
      const [parentPath, leaf] = splitLeaf(path);
      const getParents = plan.getter(parentPath);
      const leafGet = compilePath(leaf);
      const missing = (vals: readonly Found[]) => vals.length === 0 || vals.every((f) => isEmpty(f.v));
      return (res, base, _ctx, out, run) => {
        const parents = getParents(run);
        if (parents.length === 0) {
          emit(out, 'required', `${base}.${path}`);
          return;
        }
        // One parent (the usual case): the path's values in this run are that parent's; several: each parent's own.
        if (parents.length === 1) {
          if (missing(get(run))) emit(out, 'required', `${parents[0].p}.${leaf.replace('[x]', '')}`);
          return;
        }
        for (const par of parents) {
          if (missing(leafGet.from(par))) emit(out, 'required', `${par.p}.${leaf.replace('[x]', '')}`);
        }
      };
    }
    case 'reference': {
      const targets = new Set(c.targets);
      const any = c.mode === 'any';
      return (_res, base, ctx, out, run) => {
        const vals = get(run);
        let matched = false;
        // `all`: each bad reference is reported where found; `any`: only the first, when none matched.
        let firstBad: Found | undefined;
        for (const f of vals) {
          const v = f.v;
          const ref = isObj(v) ? v.reference : undefined;
          if (typeof ref !== 'string' || ref === '') {
            if (any) firstBad ??= f;
            else emit(out, 'value', `${f.p}.reference`, 'no literal reference');
            continue;
          }
          const t = referenceType(ref, ctx.refTypes);
          if (t === undefined || (t !== null && targets.has(t))) matched = true;
          else if (any) firstBad ??= f;
          else emit(out, 'value', `${f.p}.reference`, t === null ? 'not a valid reference' : `points to ${t}`);
        }
        if (any && !matched) emit(out, firstBad ? 'value' : 'required', firstBad ? `${firstBad.p}.reference` : `${base}.${path}`);
      };
    }
    case 'systems': {
      const systems = new Map(Object.entries(c.systems).map(([s, codes]) => [s, codes ? new Set(codes) : null]));
      const ok = (v: unknown): boolean | 'other' => {
        if (!isObj(v) || typeof v.system !== 'string') return false;
        if (!systems.has(v.system)) return 'other';
        const codes = systems.get(v.system);
        return !codes || (typeof v.code === 'string' && codes.has(v.code));
      };
      if (c.mode === 'any') {
        return (_res, base, _ctx, out, run) => {
          const vals = get(run);
          if (vals.length === 0) {
            // Presence is usually a separate `required` rule; `required` makes absence this rule's failure.
            if (c.required) emit(out, 'required', `${base}.${path}`, 'none given');
            return;
          }
          if (!vals.some((f) => ok(f.v) === true)) emit(out, 'value', vals[0].p.replace(/\[\d+\]$/, '')); // the list element
        };
      }
      const codesOnly = c.mode === 'codes';
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          const r = ok(v);
          if (r === true || (codesOnly && r === 'other')) continue;
          if (codesOnly || (r === false && isObj(v) && typeof v.system === 'string')) {
            emit(out, 'value', `${f.p}.code`, `code not in the allowed list for ${String((v as Record<string, unknown>).system)}`);
          } else if (r === 'other') emit(out, 'value', `${f.p}.system`, `system ${String((v as Record<string, unknown>).system)} is not allowed here`);
          else emit(out, 'value', `${f.p}.system`, 'system missing');
        }
      };
    }
    case 'codeableSystems': {
      const listed = new Set(c.systems);
      const unlisted = c.unlisted ? new Set(c.unlisted) : undefined;
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (!isObj(v)) continue;
          const codings: readonly unknown[] = Array.isArray(v.coding) ? v.coding : NONE;
          let fromListed = false;
          let firstUnlisted = -1;
          for (let i = 0; i < codings.length; i++) {
            const sys = isObj(codings[i]) ? (codings[i] as Record<string, unknown>).system : undefined;
            if (typeof sys !== 'string') continue;
            if (listed.has(sys)) fromListed = true;
            else if (firstUnlisted < 0 && unlisted?.has(sys)) firstUnlisted = i;
          }
          if (fromListed) continue;
          if (unlisted) {
            if (firstUnlisted >= 0) emit(out, 'value', `${f.p}.coding[${firstUnlisted}].system`, `system ${String((codings[firstUnlisted] as Record<string, unknown>).system)}`);
          } else if (codings.length) emit(out, 'value', `${f.p}.coding`);
          else if (c.required) emit(out, 'required', `${f.p}.coding`, 'none given');
        }
      };
    }
    case 'codingPresent':
      return (_res, base, _ctx, out, run) => {
        const vals = get(run);
        if (!vals.some(({ v }) => isObj(v) && v.system === c.system && v.code === c.code)) {
          const [first] = path.split('.');
          emit(out, 'required', `${base}.${first}`);
        }
      };
    case 'codeFormat': {
      const re = new RegExp(c.pattern);
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (isObj(v) && v.system === c.system && (typeof v.code !== 'string' || !re.test(v.code))) emit(out, 'value', `${f.p}.code`);
        }
      };
    }
    case 'identifierValue': {
      const re = new RegExp(c.pattern);
      const systems = new Set(c.systems);
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          // The value is a NIK: never put it in the message.
          if (isObj(v) && typeof v.system === 'string' && systems.has(v.system) && (typeof v.value !== 'string' || !re.test(v.value))) emit(out, 'value', `${f.p}.value`);
        }
      };
    }
    case 'orgIdentifier': {
      const re = new RegExp(`^${escapeRegExp(ORG_IDENTIFIER_BASE)}(${c.kinds.join('|')})/([^/]+)$`);
      const example = `${ORG_IDENTIFIER_BASE}${c.kinds[0]}/{organizationId}`;
      return (res, base, ctx, out, run) => {
        const vals = get(run);
        let found = false;
        for (const f of vals) {
          const v = f.v;
          const sys = isObj(v) ? v.system : undefined;
          if (typeof sys !== 'string') continue;
          const m = re.exec(sys);
          if (!m) {
            // strict: every sys-ids identifier must be of this kind; otherwise others (e.g. mpdn) may sit beside it.
            if (c.strict && SYS_IDS.test(sys)) emit(out, 'value', `${f.p}.system`, `expected ${example}`);
            continue;
          }
          found = true;
          const org = m[2];
          if (ctx.organizationId !== undefined && org !== ctx.organizationId) {
            emit(out, 'value', `${f.p}.system`, `organization id ${org} in the system is not the sending organization ${ctx.organizationId}`);
          }
          if (c.consistentWith) {
            const sp = res[c.consistentWith];
            const ref = isObj(sp) && typeof sp.reference === 'string' ? ORG_REF.exec(sp.reference) : null;
            if (ref && ref[1] !== org) emit(out, 'value', `${f.p}.system`, `organization id ${org} differs from ${c.consistentWith} Organization/${ref[1]}`);
          }
        }
        if (c.required && !found) emit(out, vals.length ? 'value' : 'required', `${base}.${path}`, `expected ${example}`);
      };
    }
    case 'dateTimeFormat':
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (typeof v !== 'string' || !FULL_DATETIME.test(v)) emit(out, 'value', f.p);
        }
      };
    case 'dateTimeUtc':
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          // The cheap suffix test first: most values are UTC.
          if (typeof v === 'string' && !UTC_SUFFIX.test(v) && FULL_DATETIME.test(v)) emit(out, 'value', f.p);
        }
      };
    case 'dateTimeRange': {
      const min = c.notBefore ? Date.parse(c.notBefore) : undefined;
      if (min !== undefined && Number.isNaN(min)) throw new Error(`rule ${rule.id}: bad notBefore`);
      return (_res, base, ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (typeof v !== 'string') continue;
          const t = epochMsOf(v);
          if (Number.isNaN(t)) continue; // the format rule reports it
          if (min !== undefined && t < min) emit(out, 'value', f.p, 'before 2022-08-31');
          else if (c.notFuture && t > ctx.nowMs) emit(out, 'value', f.p, 'in the future');
        }
      };
    }
    case 'after': {
      const other = plan.getter(c.other);
      return (_res, base, _ctx, out, run) => {
        const a = get(run);
        const b = other(run);
        if (a.length !== 1 || b.length !== 1) return; // absence is a `required` rule's business
        const ta = typeof a[0].v === 'string' ? epochMsOf(a[0].v) : NaN;
        const tb = typeof b[0].v === 'string' ? epochMsOf(b[0].v) : NaN;
        if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta <= tb) emit(out, 'value', a[0].p);
      };
    }
    case 'dateAfter': {
      const other = plan.getter(c.other);
      const sameDayOk = c.allowSameDay === true;
      return (_res, base, _ctx, out, run) => {
        const a = get(run);
        const b = other(run);
        if (a.length !== 1 || b.length !== 1 || typeof a[0].v !== 'string' || typeof b[0].v !== 'string') return;
        if (!DATE_PREFIX.test(a[0].v) || !DATE_PREFIX.test(b[0].v)) return; // the format rules report it
        // Calendar dates as written (an expiry date is a local date; shifting the occurrence to UTC could move its day).
        const da = a[0].v.slice(0, 10);
        const db = b[0].v.slice(0, 10);
        if (da < db || (da === db && !sameDayOk)) emit(out, 'value', a[0].p);
      };
    }
    case 'ucumSystem':
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (isObj(v) && v.system !== 'http://unitsofmeasure.org') emit(out, 'value', `${f.p}.system`);
        }
      };
    case 'ucumCode': {
      let list = c.notUcum;
      if (typeof list === 'string') {
        const other = earlier.get(list);
        if (other?.check.kind !== 'ucumCode' || typeof other.check.notUcum !== 'object') throw new Error(`rule ${rule.id}: notUcum must name an earlier ucumCode rule with a list`);
        list = other.check.notUcum;
      }
      const notUcum = new Map(Object.entries(list ?? {}));
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (!isObj(v)) continue;
          if (typeof v.code !== 'string' || !UCUM_SYNTAX.test(v.code)) emit(out, 'value', `${f.p}.code`);
          else if (notUcum.has(v.code)) emit(out, 'value', `${f.p}.code`, `'${v.code}' is not UCUM, use '${notUcum.get(v.code)}'`);
        }
      };
    }
    case 'positiveInt':
      return (_res, base, _ctx, out, run) => {
        for (const f of get(run)) {
          const v = f.v;
          if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) emit(out, 'value', f.p);
        }
      };
    case 'containsAll':
      return (_res, base, _ctx, out, run) => {
        const have = new Set(get(run).map((f) => f.v));
        const missing = c.values.filter((x) => !have.has(x));
        if (missing.length) emit(out, 'value', `${base}.${path.split('.')[0]}`, `missing ${missing.join(', ')}`);
      };
    case 'uriScheme': {
      // One anchored alternation instead of a startsWith per fix: every system and url of every resource is tested.
      const wrongPrefix = new RegExp(`^(?:${c.fixes.map((f) => escapeRegExp(f.wrong)).join('|')})`);
      const wrong = c.fixes.length ? (value: string) => wrongPrefix.test(value) : () => false;
      return (res, base, _ctx, out) => {
        walkStrings(res, base, URI_KEYS, wrong, (value, at) => {
          for (const f of c.fixes) if (value.startsWith(f.wrong)) emit(out, 'value', at, `use ${f.right}... instead of ${f.wrong}...`);
        });
      };
    }
    default: {
      const never: never = c;
      throw new Error(`unknown check kind ${JSON.stringify(never)}`);
    }
  }
}

const URI_KEYS = new Set(['system', 'url']);

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
  /** Runs one layer of rules for `res` (located at FHIRPath `base`): `base` = base-R4 cardinality, `profile` = SATUSEHAT. */
  run(res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[], layer: 'base' | 'profile'): void;
}

/** Validates the rule data and compiles it once. Throws on malformed data (caught at start-up, not per request). */
export function compileRules(set: RuleSet): CompiledRules {
  if (!set || typeof set.version !== 'string' || !Array.isArray(set.rules)) throw new Error('rules file: needs "version" and "rules"');
  // Per resource type and layer: the rules in file order, over one path trie.
  interface Layer { plan: PathPlan; checks: Compiled[]; walk?: Walk }
  const newLayer = (): Layer => ({ plan: new PathPlan(), checks: [] });
  const byType = new Map<string, { base: Layer; profile: Layer }>();
  const ids = new Map<string, RuleDef>();
  for (const rule of set.rules) {
    if (ids.has(rule.id)) throw new Error(`rules file: duplicate id ${rule.id}`);
    if (rule.confidence === 'UNV' && rule.severity === 'error') throw new Error(`rule ${rule.id}: an unconfirmed (UNV) rule must not be an error`);
    if (rule.rule !== undefined && !/^\d{5}$/.test(rule.rule)) throw new Error(`rule ${rule.id}: rule number must be 5 digits`);
    let slot = byType.get(rule.resourceType);
    if (!slot) byType.set(rule.resourceType, (slot = { base: newLayer(), profile: newLayer() }));
    const layer = rule.layer === 'base-r4' ? slot.base : slot.profile;
    const paths = rule.paths ?? [rule.path ?? ''];
    const cond = compileConditions(rule.when, layer.plan);
    for (const p of paths) {
      const check = compileCheck(rule, p, ids, layer.plan);
      layer.checks.push(cond ? (res, base, ctx, out, run) => (cond(run) ? check(res, base, ctx, out, run) : undefined) : check);
    }
    ids.set(rule.id, rule);
  }
  // The walks, once every rule has interned its paths.
  for (const slot of byType.values()) for (const layer of [slot.base, slot.profile]) layer.walk = compileWalk(layer.plan.nodes);
  const none = { base: newLayer(), profile: newLayer() };
  const star = byType.get('*') ?? none;
  const runLayer = (layer: Layer, res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[]) => {
    const checks = layer.checks;
    if (checks.length === 0) return;
    const run = new Run((layer.walk as Walk)(new Found(res, undefined, base)));
    for (let i = 0; i < checks.length; i++) checks[i](res, base, ctx, out, run);
  };
  return {
    version: set.version,
    rules: set.rules,
    run(res, base, ctx, out, layer) {
      runLayer((byType.get(res.resourceType as string) ?? none)[layer], res, base, ctx, out);
      runLayer(star[layer], res, base, ctx, out);
    },
  };
}
