// REFERENCE ONLY (tests): the profile rule interpreter as it was before the rules were compiled per resource type
// (commit af270b1, one path walk per rule). Frozen on purpose: tests/validation/rule-engine-equivalence.test.ts runs it
// beside src/validation/rule-engine.ts and asserts identical findings. Do not optimise or "fix" it; never imported by src/.
import { issue, type Issue } from '../../../src/validation/outcome.js';
import { ORG_IDENTIFIER_BASE } from '../../../src/util/systems.js';
import type { Condition, RuleDef, RuleSet, RuleContext, CompiledRules } from '../../../src/validation/rule-engine.js';
// Unchanged by the compiled engine, so shared rather than copied: the reference-type parser and the all-strings walk.
import { referenceType, walkStrings } from '../../../src/validation/rule-engine.js';

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
type Getter = ((root: Record<string, unknown>, base: string) => Found[]) & { from: (start: Found) => Found[] };
type Compiled = (res: Record<string, unknown>, base: string, ctx: RuleContext, out: Issue[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);

/** Compiles `a.b.c` / `effective[x]` into a getter returning every value with its FHIRPath location (arrays flattened). `from`
 *  starts the walk at an earlier finding (its location then prefixes the new ones). */
export function compilePath(path: string): Getter {
  const segs = path ? path.split('.') : [];
  // Per segment, fixed at compile time: the choice-type prefix (`effective` of `effective[x]`) and the location suffix.
  const choices = segs.map((seg) => (seg.endsWith('[x]') ? seg.slice(0, -3) : undefined));
  const suffixes = segs.map((seg) => `.${seg}`);
  const getter = (start: Found): Found[] => {
    let cur: Found[] = [start];
    for (let s = 0; s < segs.length; s++) {
      const seg = segs[s];
      const choice = choices[s];
      const next: Found[] = [];
      for (let j = 0; j < cur.length; j++) {
        const f = cur[j];
        const v = f.v;
        if (!isObj(v)) continue;
        if (choice !== undefined) {
          for (const k in v) {
            if (k.length > choice.length && k.startsWith(choice) && k.charCodeAt(choice.length) >= 65 && k.charCodeAt(choice.length) <= 90) push(next, v[k], f, `.${k}`);
          }
        } else push(next, v[seg], f, suffixes[s]);
      }
      cur = next;
      if (cur.length === 0) break;
    }
    return cur;
  };
  const get = ((root: Record<string, unknown>, base: string) => getter(new Found(root, undefined, base))) as Getter;
  get.from = getter;
  return get;
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

function compileConditions(conds: Condition[] | undefined): ((res: Record<string, unknown>) => boolean) | undefined {
  if (!conds?.length) return undefined;
  const compiled = conds.map((c) => {
    const get = compilePath(c.path);
    return (res: Record<string, unknown>) => {
      const vals = get(res, '');
      if ('equals' in c) return vals.some((f) => f.v === c.equals);
      if ('notEquals' in c) return !vals.some((f) => f.v === c.notEquals);
      return vals.length > 0;
    };
  });
  return (res) => compiled.every((f) => f(res));
}

/** Splits `a.b.c` into parent `a.b` and leaf `c` (required-checks report a missing leaf under each present parent). */
function splitLeaf(path: string): [string, string] {
  const i = path.lastIndexOf('.');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

function compileCheck(rule: RuleDef, path: string, earlier: ReadonlyMap<string, RuleDef>): Compiled {
  const c = rule.check;
  const rn = rule.rule;
  const sev = rule.severity;
  const emit = (out: Issue[], code: Issue['code'], at: string, detail?: string) => {
    const i = issue(sev, code, detail ? `${rule.message}: ${detail}` : rule.message, at, rn);
    i.ruleId = rule.id;
    out.push(i);
  };
  const get = compilePath(path);

  switch (c.kind) {
    case 'required': {
      const [parentPath, leaf] = splitLeaf(path);
      const getParents = compilePath(parentPath);
      const leafGet = compilePath(leaf);
      return (res, base, _ctx, out) => {
        const parents = getParents(res, base);
        if (parents.length === 0) {
          emit(out, 'required', `${base}.${path}`);
          return;
        }
        for (const par of parents) {
          const vals = leafGet.from(par);
          if (vals.length === 0 || vals.every((f) => isEmpty(f.v))) emit(out, 'required', `${par.p}.${leaf.replace('[x]', '')}`);
        }
      };
    }
    case 'reference': {
      const targets = new Set(c.targets);
      const any = c.mode === 'any';
      return (res, base, ctx, out) => {
        const vals = get(res, base);
        let matched = false;
        const bad: [string, string][] = [];
        for (const f of vals) {
          const v = f.v;
          const ref = isObj(v) ? v.reference : undefined;
          if (typeof ref !== 'string' || ref === '') {
            bad.push([`${f.p}.reference`, 'no literal reference']);
            continue;
          }
          const t = referenceType(ref, ctx.refTypes);
          if (t === undefined || (t !== null && targets.has(t))) matched = true;
          else bad.push([`${f.p}.reference`, t === null ? 'not a valid reference' : `points to ${t}`]);
        }
        if (any) {
          if (!matched) emit(out, vals.length ? 'value' : 'required', vals.length ? bad[0][0] : `${base}.${path}`);
        } else for (const [at, why] of bad) emit(out, 'value', at, why);
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
        return (res, base, _ctx, out) => {
          const vals = get(res, base);
          if (vals.length === 0) {
            // Presence is usually a separate `required` rule; `required` makes absence this rule's failure.
            if (c.required) emit(out, 'required', `${base}.${path}`, 'none given');
            return;
          }
          if (!vals.some((f) => ok(f.v) === true)) emit(out, 'value', vals[0].p.replace(/\[\d+\]$/, '')); // the list element
        };
      }
      const codesOnly = c.mode === 'codes';
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
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
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (!isObj(v)) continue;
          const codings = Array.isArray(v.coding) ? v.coding : [];
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
      return (res, base, _ctx, out) => {
        const vals = get(res, base);
        if (!vals.some(({ v }) => isObj(v) && v.system === c.system && v.code === c.code)) {
          const [first] = path.split('.');
          emit(out, 'required', `${base}.${first}`);
        }
      };
    case 'codeFormat': {
      const re = new RegExp(c.pattern);
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (isObj(v) && v.system === c.system && (typeof v.code !== 'string' || !re.test(v.code))) emit(out, 'value', `${f.p}.code`);
        }
      };
    }
    case 'identifierValue': {
      const re = new RegExp(c.pattern);
      const systems = new Set(c.systems);
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          // The value is a NIK: never put it in the message.
          if (isObj(v) && typeof v.system === 'string' && systems.has(v.system) && (typeof v.value !== 'string' || !re.test(v.value))) emit(out, 'value', `${f.p}.value`);
        }
      };
    }
    case 'orgIdentifier': {
      const re = new RegExp(`^${escapeRegExp(ORG_IDENTIFIER_BASE)}(${c.kinds.join('|')})/([^/]+)$`);
      const example = `${ORG_IDENTIFIER_BASE}${c.kinds[0]}/{organizationId}`;
      return (res, base, ctx, out) => {
        const vals = get(res, base);
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
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (typeof v !== 'string' || !FULL_DATETIME.test(v)) emit(out, 'value', f.p);
        }
      };
    case 'dateTimeUtc':
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (typeof v === 'string' && FULL_DATETIME.test(v) && !UTC_SUFFIX.test(v)) emit(out, 'value', f.p);
        }
      };
    case 'dateTimeRange': {
      const min = c.notBefore ? Date.parse(c.notBefore) : undefined;
      if (min !== undefined && Number.isNaN(min)) throw new Error(`rule ${rule.id}: bad notBefore`);
      return (res, base, ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (typeof v !== 'string') continue;
          const t = Date.parse(v);
          if (Number.isNaN(t)) continue; // the format rule reports it
          if (min !== undefined && t < min) emit(out, 'value', f.p, 'before 2022-08-31');
          else if (c.notFuture && t > ctx.nowMs) emit(out, 'value', f.p, 'in the future');
        }
      };
    }
    case 'after': {
      const other = compilePath(c.other);
      return (res, base, _ctx, out) => {
        const a = get(res, base);
        const b = other(res, base);
        if (a.length !== 1 || b.length !== 1) return; // absence is a `required` rule's business
        const ta = typeof a[0].v === 'string' ? Date.parse(a[0].v) : NaN;
        const tb = typeof b[0].v === 'string' ? Date.parse(b[0].v) : NaN;
        if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta <= tb) emit(out, 'value', a[0].p);
      };
    }
    case 'dateAfter': {
      const other = compilePath(c.other);
      const sameDayOk = c.allowSameDay === true;
      return (res, base, _ctx, out) => {
        const a = get(res, base);
        const b = other(res, base);
        if (a.length !== 1 || b.length !== 1 || typeof a[0].v !== 'string' || typeof b[0].v !== 'string') return;
        if (!DATE_PREFIX.test(a[0].v) || !DATE_PREFIX.test(b[0].v)) return; // the format rules report it
        // Calendar dates as written (an expiry date is a local date; shifting the occurrence to UTC could move its day).
        const da = a[0].v.slice(0, 10);
        const db = b[0].v.slice(0, 10);
        if (da < db || (da === db && !sameDayOk)) emit(out, 'value', a[0].p);
      };
    }
    case 'ucumSystem':
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
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
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (!isObj(v)) continue;
          if (typeof v.code !== 'string' || !UCUM_SYNTAX.test(v.code)) emit(out, 'value', `${f.p}.code`);
          else if (notUcum.has(v.code)) emit(out, 'value', `${f.p}.code`, `'${v.code}' is not UCUM, use '${notUcum.get(v.code)}'`);
        }
      };
    }
    case 'positiveInt':
      return (res, base, _ctx, out) => {
        for (const f of get(res, base)) {
          const v = f.v;
          if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) emit(out, 'value', f.p);
        }
      };
    case 'containsAll':
      return (res, base, _ctx, out) => {
        const have = new Set(get(res, base).map((f) => f.v));
        const missing = c.values.filter((x) => !have.has(x));
        if (missing.length) emit(out, 'value', `${base}.${path.split('.')[0]}`, `missing ${missing.join(', ')}`);
      };
    case 'uriScheme': {
      const wrong = (value: string) => c.fixes.some((f) => value.startsWith(f.wrong));
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

/** Validates the rule data and compiles it once. Throws on malformed data (caught at start-up, not per request). */
export function compileRules(set: RuleSet): CompiledRules {
  if (!set || typeof set.version !== 'string' || !Array.isArray(set.rules)) throw new Error('rules file: needs "version" and "rules"');
  const byType = new Map<string, { base: Compiled[]; profile: Compiled[] }>();
  const ids = new Map<string, RuleDef>();
  for (const rule of set.rules) {
    if (ids.has(rule.id)) throw new Error(`rules file: duplicate id ${rule.id}`);
    if (rule.confidence === 'UNV' && rule.severity === 'error') throw new Error(`rule ${rule.id}: an unconfirmed (UNV) rule must not be an error`);
    if (rule.rule !== undefined && !/^\d{5}$/.test(rule.rule)) throw new Error(`rule ${rule.id}: rule number must be 5 digits`);
    const paths = rule.paths ?? [rule.path ?? ''];
    const cond = compileConditions(rule.when);
    for (const p of paths) {
      const check = compileCheck(rule, p, ids);
      const fn: Compiled = cond ? (res, base, ctx, out) => (cond(res) ? check(res, base, ctx, out) : undefined) : check;
      let slot = byType.get(rule.resourceType);
      if (!slot) byType.set(rule.resourceType, (slot = { base: [], profile: [] }));
      (rule.layer === 'base-r4' ? slot.base : slot.profile).push(fn);
    }
    ids.set(rule.id, rule);
  }
  const empty = { base: [] as Compiled[], profile: [] as Compiled[] };
  const star = byType.get('*') ?? empty;
  return {
    version: set.version,
    rules: set.rules,
    run(res, base, ctx, out, layer) {
      const slot = byType.get(res.resourceType as string) ?? empty;
      const list = slot[layer];
      for (let i = 0; i < list.length; i++) list[i](res, base, ctx, out);
      const g = star[layer];
      for (let i = 0; i < g.length; i++) g[i](res, base, ctx, out);
    },
  };
}
