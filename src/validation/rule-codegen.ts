// Source generator for the profile rules (rule-engine.ts turns its output into functions with new Function, once, at start-up).
// Input is the project's own profiles/satusehat-rules.json, never a request: every name and literal from it is embedded with
// JSON.stringify, regexes, sets and maps are passed in as constants (K0, K1, …), never written into the source as text.
//
// Per resource type and layer, one straight-line function: the rules in file order, each as a block that reads its path in place
// (one nested loop per path segment, arrays flattened, `effective[x]` by its keys) and tests the values where they lie. Nothing
// is allocated while a resource passes: the FHIRPath location of a value (`Observation.component[1].code`) is a string
// expression over the loop variables, evaluated only where an Issue is made. The semantics are those of the earlier engines
// (tests/validation/reference/rule-engine-v1.ts), pinned by the rule-engine-equivalence tests: values in document order, null
// and undefined skipped, one array level flattened per segment, each rule's findings in the same order and words.
import type { Check, Condition, RuleDef } from './rule-engine.js';
import { ORG_IDENTIFIER_BASE } from '../util/systems.js';

/** A generated function's source (the body of a factory taking `rt`, the runtime helpers, and `K`, the constants). */
export interface GeneratedLayer {
  readonly source: string;
  readonly constants: readonly unknown[];
}

/** One rule path to check, in file order; `notUcum` already resolved when it names an earlier rule. */
export interface PlannedCheck {
  readonly rule: RuleDef;
  readonly path: string;
  readonly notUcum?: Record<string, string>;
}

/** The names rule-engine.ts passes in `rt` (the generated code destructures them). */
export const RUNTIME_NAMES = [
  'emit', 'isEmpty', 'referenceType', 'epochOf', 'isFullDateTime', 'DATE_PREFIX', 'UCUM_SYNTAX', 'SYS_IDS',
  'isTypedId', 'referencedOrg', 'hasUri', 'walkStrings', 'URI_KEYS', 'firstTen',
] as const;

interface Segment { readonly name: string; readonly choice: string | undefined }
const segmentsOf = (path: string): Segment[] =>
  (path ? path.split('.') : []).map((name) => ({ name, choice: name.endsWith('[x]') ? name.slice(0, -3) : undefined }));

/** A location: JS expressions whose concatenation is the FHIRPath of the current value. */
type Loc = readonly string[];
const locJs = (loc: Loc): string => loc.join(' + ');
/** `loc` then the literal `suffix`. */
const locPlus = (loc: Loc, suffix: string): string => locJs([...loc, JSON.stringify(suffix)]);

const lit = (v: unknown): string => JSON.stringify(v);

class Writer {
  private readonly lines: string[] = [];
  private depth = 1;
  private n = 0;
  readonly constants: unknown[] = [];

  line(text: string): void {
    this.lines.push('  '.repeat(this.depth) + text);
  }
  open(head: string): void {
    this.line(`${head} {`);
    this.depth++;
  }
  close(): void {
    this.depth--;
    this.line('}');
  }
  fresh(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
  /** Top-level properties of the resource, each read once at the start (rules read `subject`, `code`, … several times). */
  readonly topLevelReads = new Map<string, string>();
  topLevel(name: string): string {
    let v = this.topLevelReads.get(name);
    if (v === undefined) this.topLevelReads.set(name, (v = `T${this.topLevelReads.size}`));
    return v;
  }
  constant(value: unknown): string {
    return `K${this.constants.push(value) - 1}`;
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/**
 * Writes the loops that visit each value at `segs` below `root` (a value whose location is `rootLoc`; `rootIsObj` a JS condition
 * saying it is a plain object). `visit` writes the code run for one value, given the variable holding it and its location.
 * Values of intermediate segments that are not plain objects are skipped, as are undefined and null; an array is flattened
 * one level (its items get `[i]`), in order.
 */
function eachValue(w: Writer, segs: readonly Segment[], root: string, rootIsObj: string, rootLoc: Loc, visit: (x: string, loc: Loc) => void): void {
  const level = (i: number, parent: string, parentIsObj: string, loc: Loc): void => {
    if (i === segs.length) {
      visit(parent, loc);
      return;
    }
    const seg = segs[i];
    const p = w.fresh('p');
    const a = w.fresh('a');
    const n = w.fresh('n');
    const j = w.fresh('i');
    const x = w.fresh('x');
    let at: Loc;
    w.open(`if (${parentIsObj})`);
    if (seg.choice !== undefined) {
      const k = w.fresh('k');
      const len = seg.choice.length;
      // `effective[x]`: every key that is the prefix followed by an upper-case letter (effectiveDateTime, effectivePeriod, …).
      w.open(`for (const ${k} in ${parent})`);
      // The first character first: it turns most keys away with one comparison (an empty prefix has none to compare).
      const first = len > 0 ? `${k}.charCodeAt(0) === ${seg.choice.charCodeAt(0)} && ` : '';
      w.open(`if (${k}.length > ${len} && ${first}${k}.startsWith(${lit(seg.choice)}) && ${k}.charCodeAt(${len}) >= 65 && ${k}.charCodeAt(${len}) <= 90)`);
      w.line(`const ${p} = ${parent}[${k}];`);
      at = [...loc, `"." + ${k}`];
    } else {
      w.line(`const ${p} = ${parent === 'res' ? w.topLevel(seg.name) : `${parent}[${lit(seg.name)}]`};`);
      at = [...loc, lit(`.${seg.name}`)];
    }
    w.open(`if (${p} !== undefined && ${p} !== null)`);
    w.line(`const ${a} = Array.isArray(${p}), ${n} = ${a} ? ${p}.length : 1;`);
    w.open(`for (let ${j} = 0; ${j} < ${n}; ${j}++)`);
    w.line(`const ${x} = ${a} ? ${p}[${j}] : ${p};`);
    w.open(`if (${x} !== undefined && ${x} !== null)`);
    level(i + 1, x, `typeof ${x} === "object" && !Array.isArray(${x})`, [...at, `(${a} ? "[" + ${j} + "]" : "")`]);
    w.close();
    w.close();
    w.close();
    if (seg.choice !== undefined) {
      w.close();
      w.close();
    }
    w.close();
  };
  level(0, root, rootIsObj, rootLoc);
}

/** Values of `path` below the resource (`res`, located at `base`). */
const eachResValue = (w: Writer, path: string, visit: (x: string, loc: Loc) => void): void =>
  eachValue(w, segmentsOf(path), 'res', 'ro', ['base'], visit);

/** A block `label: { … }` the visit code may leave with `break label` (a `some` that stops at the first hit). */
function labelled(w: Writer, body: (label: string) => void): void {
  const label = w.fresh('L');
  w.open(`${label}:`);
  body(label);
  w.close();
}

/** The location of the first value of `path`, into the variable `into` (written only where a finding needs it). */
function firstLocation(w: Writer, path: string, into: string): void {
  labelled(w, (label) => eachResValue(w, path, (_x, loc) => w.line(`${into} = ${locJs(loc)}; break ${label};`)));
}

/** `s` is one of `values` (strings): a chain of comparisons for a few, a Set beyond. */
function memberOf(w: Writer, s: string, values: readonly string[]): string {
  if (values.length === 0) return 'false';
  if (values.length <= 6) return `(${values.map((v) => `${s} === ${lit(v)}`).join(' || ')})`;
  return `${w.constant(new Set(values))}.has(${s})`;
}

const isObjJs = (x: string): string => `(typeof ${x} === "object" && ${x} !== null && !Array.isArray(${x}))`;

/** Writes `if (conditions) {` for a rule's `when` (every condition holds); returns how many blocks to close. */
function openConditions(w: Writer, conds: readonly Condition[] | undefined): number {
  let opened = 0;
  for (const c of conds ?? []) {
    const hit = w.fresh('c');
    w.line(`let ${hit} = false;`);
    const target = 'equals' in c ? c.equals : 'notEquals' in c ? c.notEquals : undefined;
    const compare = 'equals' in c || 'notEquals' in c;
    labelled(w, (label) =>
      eachResValue(w, c.path, (x) => {
        if (compare) w.line(`if (${x} === ${lit(target)}) { ${hit} = true; break ${label}; }`);
        else w.line(`${hit} = true; break ${label};`);
      }),
    );
    w.open(`if (${'equals' in c || !compare ? hit : `!${hit}`})`);
    opened++;
  }
  return opened;
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * For plain-word kinds, what `^{ORG_IDENTIFIER_BASE}(kind|…)/([^/]+)$` finds, by hand: where the organization id starts in
 * `system`, -1 when it does not match (kinds tried in the alternation's order; no match array per identifier).
 */
function orgIdStart(kinds: readonly string[]): (system: string) => number {
  const base = ORG_IDENTIFIER_BASE;
  return (system) => {
    if (!system.startsWith(base)) return -1;
    for (const kind of kinds) {
      const start = base.length + kind.length + 1;
      if (system.startsWith(kind, base.length) && system.charCodeAt(start - 1) === 47 && system.length > start && system.indexOf('/', start) < 0) return start;
    }
    return -1;
  };
}

/** Writes the block of one rule path. `R` is the constant holding the rule (for emit). */
function writeCheck(w: Writer, planned: PlannedCheck, R: string): void {
  const { rule, path } = planned;
  const c: Check = rule.check;
  // `codeJs`, `at` and `detail` are JS expressions (the issue code is a literal but for two kinds).
  const emitJs = (codeJs: string, at: string, detail?: string) => w.line(`emit(out, ${R}, ${codeJs}, ${at}${detail === undefined ? '' : `, ${detail}`});`);
  const emit = (code: string, at: string, detail?: string) => emitJs(lit(code), at, detail);
  const atPath = locPlus(['base'], `.${path}`);

  switch (c.kind) {
    case 'required': {
      // A missing leaf is reported under each present parent; no parent at all: at the rule path.
      const dot = path.lastIndexOf('.');
      const parentPath = dot < 0 ? '' : path.slice(0, dot);
      const leaf = dot < 0 ? path : path.slice(dot + 1);
      const parents = w.fresh('np');
      w.line(`let ${parents} = 0;`);
      eachResValue(w, parentPath, (px, ploc) => {
        w.line(`${parents}++;`);
        const present = w.fresh('has');
        w.line(`let ${present} = false;`);
        labelled(w, (label) =>
          eachValue(w, segmentsOf(leaf), px, isObjJs(px), ploc, (x) => w.line(`if (typeof ${x} === "object" ? !isEmpty(${x}) : ${x} !== "") { ${present} = true; break ${label}; }`)),
        );
        w.open(`if (!${present})`);
        emit('required', locPlus(ploc, `.${leaf.replace('[x]', '')}`));
        w.close();
      });
      w.open(`if (${parents} === 0)`);
      emit('required', atPath);
      w.close();
      return;
    }
    case 'reference': {
      // `all`: each bad reference is reported where found; `any`: only the first, when none matched.
      const any = c.mode === 'any';
      const matched = w.fresh('matched');
      const bad = w.fresh('bad');
      if (any) w.line(`let ${matched} = false, ${bad};`);
      // The usual `Type/id` (id of FHIR id characters, no further `/`) with Type a target is read here without a regex.
      const plain = c.targets.filter((t) => /^[A-Z][A-Za-z]+$/.test(t));
      eachResValue(w, path, (x, loc) => {
        const ref = w.fresh('ref');
        w.line(`const ${ref} = ${isObjJs(x)} ? ${x}.reference : undefined;`);
        w.open(`if (typeof ${ref} !== "string" || ${ref} === "")`);
        if (any) w.line(`if (${bad} === undefined) ${bad} = ${locJs(loc)};`);
        else emit('value', locPlus(loc, '.reference'), lit('no literal reference'));
        w.close();
        w.open(`else if (!(${plain.length ? plain.map((t) => `isTypedId(${ref}, ${lit(t)})`).join(' || ') : 'false'}))`);
        const t = w.fresh('t');
        // urn:uuid: resolved through the Bundle's entries, as referenceType does, without the call.
        w.line(`const ${t} = ${ref}.startsWith("urn:") ? (ctx.refTypes === undefined || ctx.refTypes === null ? undefined : ctx.refTypes.get(${ref})) : referenceType(${ref}, ctx.refTypes);`);
        w.open(`if (${t} === undefined || (${t} !== null && ${memberOf(w, t, c.targets)}))`);
        if (any) w.line(`${matched} = true;`);
        w.close();
        w.open('else');
        if (any) w.line(`if (${bad} === undefined) ${bad} = ${locJs(loc)};`);
        else emit('value', locPlus(loc, '.reference'), `${t} === null ? "not a valid reference" : "points to " + ${t}`);
        w.close();
        w.close();
        if (any) w.line(`else ${matched} = true;`);
      });
      if (any) {
        w.open(`if (!${matched})`);
        emitJs(`${bad} !== undefined ? "value" : "required"`, `${bad} !== undefined ? ${bad} + ".reference" : ${atPath}`);
        w.close();
      }
      return;
    }
    case 'systems': {
      const systems = w.constant(new Map(Object.entries(c.systems).map(([s, codes]) => [s, codes ? new Set(codes) : null])));
      // ok: 1 = allowed system (and code, when the system lists codes), 2 = a system not listed, 0 = no system or a code not listed.
      const okOf = (x: string): string => {
        const r = w.fresh('ok');
        const codes = w.fresh('codes');
        w.line(`let ${r} = 0;`);
        w.open(`if (${isObjJs(x)} && typeof ${x}.system === "string")`);
        w.line(`const ${codes} = ${systems}.get(${x}.system);`);
        w.line(`${r} = ${codes} === undefined ? 2 : ${codes} === null || (typeof ${x}.code === "string" && ${codes}.has(${x}.code)) ? 1 : 0;`);
        w.close();
        return r;
      };
      if (c.mode === 'any') {
        const count = w.fresh('nv');
        const good = w.fresh('good');
        w.line(`let ${count} = 0, ${good} = false;`);
        labelled(w, (label) =>
          eachResValue(w, path, (x) => {
            w.line(`${count}++;`);
            const r = okOf(x);
            w.line(`if (${r} === 1) { ${good} = true; break ${label}; }`);
          }),
        );
        w.open(`if (${count} === 0)`);
        // Presence is usually a separate `required` rule; `required` makes absence this rule's failure.
        if (c.required) emit('required', atPath, lit('none given'));
        w.close();
        w.open(`else if (!${good})`);
        const first = w.fresh('first');
        w.line(`let ${first} = "";`);
        firstLocation(w, path, first);
        emit('value', `${first}.replace(/\\[\\d+\\]$/, "")`); // the list element
        w.close();
        return;
      }
      const codesOnly = c.mode === 'codes';
      eachResValue(w, path, (x, loc) => {
        const r = okOf(x);
        w.open(`if (${r} !== 1${codesOnly ? ` && ${r} !== 2` : ''})`);
        const sys = `String(${x}.system)`;
        if (codesOnly) emit('value', locPlus(loc, '.code'), `"code not in the allowed list for " + ${sys}`);
        else {
          w.open(`if (${r} === 0 && ${isObjJs(x)} && typeof ${x}.system === "string")`);
          emit('value', locPlus(loc, '.code'), `"code not in the allowed list for " + ${sys}`);
          w.close();
          w.open(`else if (${r} === 2)`);
          emit('value', locPlus(loc, '.system'), `"system " + ${sys} + " is not allowed here"`);
          w.close();
          w.open('else');
          emit('value', locPlus(loc, '.system'), lit('system missing'));
          w.close();
        }
        w.close();
      });
      return;
    }
    case 'codeableSystems': {
      eachResValue(w, path, (x, loc) => {
        w.open(`if (${isObjJs(x)})`);
        const codings = w.fresh('cod');
        const listed = w.fresh('listed');
        const firstUnlisted = w.fresh('fu');
        const i = w.fresh('j');
        const sys = w.fresh('sys');
        w.line(`const ${codings} = Array.isArray(${x}.coding) ? ${x}.coding : NONE;`);
        w.line(`let ${listed} = false, ${firstUnlisted} = -1;`);
        w.open(`for (let ${i} = 0; ${i} < ${codings}.length; ${i}++)`);
        w.line(`const ${sys} = ${isObjJs(`${codings}[${i}]`)} ? ${codings}[${i}].system : undefined;`);
        w.open(`if (typeof ${sys} === "string")`);
        if (c.unlisted) {
          w.line(`if (${memberOf(w, sys, c.systems)}) ${listed} = true;`);
          w.line(`else if (${firstUnlisted} < 0 && ${memberOf(w, sys, c.unlisted)}) ${firstUnlisted} = ${i};`);
        } else w.line(`if (${memberOf(w, sys, c.systems)}) { ${listed} = true; break; }`);
        w.close();
        w.close();
        w.open(`if (!${listed})`);
        if (c.unlisted) {
          w.open(`if (${firstUnlisted} >= 0)`);
          emit('value', `${locJs(loc)} + ".coding[" + ${firstUnlisted} + "].system"`, `"system " + String(${codings}[${firstUnlisted}].system)`);
          w.close();
        } else {
          w.open(`if (${codings}.length)`);
          emit('value', locPlus(loc, '.coding'));
          w.close();
          if (c.required) {
            w.open('else');
            emit('required', locPlus(loc, '.coding'), lit('none given'));
            w.close();
          }
        }
        w.close();
        w.close();
      });
      return;
    }
    case 'codingPresent': {
      const found = w.fresh('present');
      w.line(`let ${found} = false;`);
      labelled(w, (label) =>
        eachResValue(w, path, (x) => w.line(`if (${isObjJs(x)} && ${x}.system === ${lit(c.system)} && ${x}.code === ${lit(c.code)}) { ${found} = true; break ${label}; }`)),
      );
      w.open(`if (!${found})`);
      emit('required', locPlus(['base'], `.${path.split('.')[0]}`));
      w.close();
      return;
    }
    case 'codeFormat': {
      const re = w.constant(new RegExp(c.pattern));
      eachResValue(w, path, (x, loc) => {
        w.open(`if (${isObjJs(x)} && ${x}.system === ${lit(c.system)} && (typeof ${x}.code !== "string" || !${re}.test(${x}.code)))`);
        emit('value', locPlus(loc, '.code'));
        w.close();
      });
      return;
    }
    case 'identifierValue': {
      const re = w.constant(new RegExp(c.pattern));
      eachResValue(w, path, (x, loc) => {
        // The value is a NIK: never put it in the message.
        w.open(`if (${isObjJs(x)} && typeof ${x}.system === "string" && ${memberOf(w, `${x}.system`, c.systems)} && (typeof ${x}.value !== "string" || !${re}.test(${x}.value)))`);
        emit('value', locPlus(loc, '.value'));
        w.close();
      });
      return;
    }
    case 'orgIdentifier': {
      const example = lit(`${ORG_IDENTIFIER_BASE}${c.kinds[0]}/{organizationId}`);
      // Kinds that are plain words (all of today's): the organization id located by hand, compared in place (orgIdStart). Others
      // are regex source (as they always were): the match's second group is the id.
      const plain = c.kinds.every((k) => /^[A-Za-z0-9-]*$/.test(k));
      const count = w.fresh('nv');
      const found = w.fresh('found');
      w.line(`let ${count} = 0, ${found} = false;`);
      eachResValue(w, path, (x, loc) => {
        w.line(`${count}++;`);
        const sys = w.fresh('sys');
        const org = w.fresh('org');
        w.line(`const ${sys} = ${isObjJs(x)} ? ${x}.system : undefined;`);
        w.open(`if (typeof ${sys} === "string")`);
        let orgText: string;
        let orgIs: (other: string) => string;
        if (plain) {
          w.line(`const ${org} = ${w.constant(orgIdStart(c.kinds))}(${sys});`);
          w.open(`if (${org} < 0)`);
          orgText = `${sys}.slice(${org})`;
          orgIs = (other) => `(${sys}.length - ${org} === ${other}.length && ${sys}.startsWith(${other}, ${org}))`;
        } else {
          const m = w.fresh('m');
          w.line(`const ${m} = ${w.constant(new RegExp(`^${escapeRegExp(ORG_IDENTIFIER_BASE)}(${c.kinds.join('|')})/([^/]+)$`))}.exec(${sys});`);
          w.open(`if (${m} === null)`);
          orgText = `${m}[2]`;
          orgIs = (other) => `(${m}[2] === ${other})`;
        }
        // strict: every sys-ids identifier must be of this kind; otherwise others (e.g. mpdn) may sit beside it.
        if (c.strict) {
          w.open(`if (SYS_IDS.test(${sys}))`);
          emit('value', locPlus(loc, '.system'), `"expected " + ${example}`);
          w.close();
        }
        w.close();
        w.open('else');
        w.line(`${found} = true;`);
        w.open(`if (ctx.organizationId !== undefined && !${orgIs('ctx.organizationId')})`);
        emit('value', locPlus(loc, '.system'), `"organization id " + ${orgText} + " in the system is not the sending organization " + ctx.organizationId`);
        w.close();
        if (c.consistentWith) {
          const ref = w.fresh('refOrg');
          w.line(`const ${ref} = referencedOrg(res, ${w.constant(c)});`);
          w.open(`if (${ref} !== undefined && !${orgIs(ref)})`);
          emit('value', locPlus(loc, '.system'), `"organization id " + ${orgText} + ${lit(` differs from ${c.consistentWith} Organization/`)} + ${ref}`);
          w.close();
        }
        w.close();
        w.close();
      });
      if (c.required) {
        w.open(`if (!${found})`);
        emitJs(`${count} ? "value" : "required"`, atPath, `"expected " + ${example}`);
        w.close();
      }
      return;
    }
    case 'dateTimeFormat':
      eachResValue(w, path, (x, loc) => {
        w.open(`if (typeof ${x} !== "string" || !isFullDateTime(${x}))`);
        emit('value', locJs(loc));
        w.close();
      });
      return;
    case 'dateTimeUtc':
      eachResValue(w, path, (x, loc) => {
        // The cheap suffix test first: most values are UTC.
        w.open(`if (typeof ${x} === "string" && !(${x}.endsWith("Z") || ${x}.endsWith("+00:00")) && isFullDateTime(${x}))`);
        emit('value', locJs(loc));
        w.close();
      });
      return;
    case 'dateTimeRange': {
      const min = c.notBefore ? Date.parse(c.notBefore) : undefined;
      if (min !== undefined && Number.isNaN(min)) throw new Error(`rule ${rule.id}: bad notBefore`);
      eachResValue(w, path, (x, loc) => {
        const t = w.fresh('t');
        w.open(`if (typeof ${x} === "string")`);
        w.line(`const ${t} = epochOf(${x});`);
        // NaN: the format rule reports it (both comparisons are false).
        if (min !== undefined) {
          w.open(`if (${t} < ${min})`);
          emit('value', locJs(loc), lit('before 2022-08-31'));
          w.close();
        }
        if (c.notFuture) {
          w.open(`${min !== undefined ? 'else ' : ''}if (${t} > ctx.nowMs)`);
          emit('value', locJs(loc), lit('in the future'));
          w.close();
        }
        w.close();
      });
      return;
    }
    case 'after':
    case 'dateAfter': {
      // Exactly one value on each side (absence is a `required` rule's business).
      const one = (p: string): [string, string] => {
        const count = w.fresh('nv');
        const first = w.fresh('v');
        w.line(`let ${count} = 0, ${first};`);
        labelled(w, (label) => eachResValue(w, p, (x) => w.line(`if (${count}++ === 0) ${first} = ${x}; else break ${label};`)));
        return [count, first];
      };
      const [na, va] = one(path);
      const [nb, vb] = one(c.other);
      if (c.kind === 'after') {
        w.open(`if (${na} === 1 && ${nb} === 1)`);
        const ta = w.fresh('ta');
        const tb = w.fresh('tb');
        w.line(`const ${ta} = typeof ${va} === "string" ? epochOf(${va}) : NaN, ${tb} = typeof ${vb} === "string" ? epochOf(${vb}) : NaN;`);
        w.open(`if (${ta} <= ${tb})`); // false when either is NaN
      } else {
        w.open(`if (${na} === 1 && ${nb} === 1 && typeof ${va} === "string" && typeof ${vb} === "string" && DATE_PREFIX.test(${va}) && DATE_PREFIX.test(${vb}))`);
        // Calendar dates as written (an expiry date is a local date; shifting the occurrence to UTC could move its day).
        const cmp = w.fresh('cmp');
        w.line(`const ${cmp} = firstTen(${va}, ${vb});`);
        w.open(`if (${cmp} < 0${c.allowSameDay === true ? '' : ` || ${cmp} === 0`})`);
      }
      const at = w.fresh('at');
      w.line(`let ${at} = "";`);
      firstLocation(w, path, at);
      emit('value', at);
      w.close();
      w.close();
      return;
    }
    case 'ucumSystem':
      eachResValue(w, path, (x, loc) => {
        w.open(`if (${isObjJs(x)} && ${x}.system !== "http://unitsofmeasure.org")`);
        emit('value', locPlus(loc, '.system'));
        w.close();
      });
      return;
    case 'ucumCode': {
      const notUcum = w.constant(new Map(Object.entries(planned.notUcum ?? {})));
      eachResValue(w, path, (x, loc) => {
        w.open(`if (${isObjJs(x)})`);
        w.open(`if (typeof ${x}.code !== "string" || !UCUM_SYNTAX.test(${x}.code))`);
        emit('value', locPlus(loc, '.code'));
        w.close();
        w.open(`else if (${notUcum}.has(${x}.code))`);
        emit('value', locPlus(loc, '.code'), `"'" + ${x}.code + "' is not UCUM, use '" + ${notUcum}.get(${x}.code) + "'"`);
        w.close();
        w.close();
      });
      return;
    }
    case 'positiveInt':
      eachResValue(w, path, (x, loc) => {
        w.open(`if (!(typeof ${x} === "number" && Number.isInteger(${x}) && ${x} > 0))`);
        emit('value', locJs(loc));
        w.close();
      });
      return;
    case 'containsAll': {
      const have = c.values.map(() => w.fresh('h'));
      if (have.length === 0) return;
      w.line(`let ${have.map((h) => `${h} = false`).join(', ')};`);
      eachResValue(w, path, (x) => c.values.forEach((v, i) => w.line(`if (${x} === ${lit(v)}) ${have[i]} = true;`)));
      w.open(`if (!(${have.join(' && ')}))`);
      const values = w.constant(c.values);
      const flags = `[${have.join(', ')}]`;
      emit('value', locPlus(['base'], `.${path.split('.')[0]}`), `"missing " + ${values}.filter((_, i) => !${flags}[i]).join(", ")`);
      w.close();
      return;
    }
    case 'uriScheme': {
      if (c.fixes.length === 0) return; // nothing can be wrong
      // Almost no resource has a match: hasUri only looks (no locations); walkStrings builds them when there is one. Neither runs
      // when the caller's own walk found no value that any uriScheme rule could report (ctx.uriSchemeClear, set per Bundle entry).
      const fixes = w.constant(c.fixes);
      const wrongPrefix = w.constant(new RegExp(`^(?:${c.fixes.map((f) => escapeRegExp(f.wrong)).join('|')})`));
      w.open(`if (ctx.uriSchemeClear !== true && hasUri(res, ${wrongPrefix}, 0))`);
      w.line(`walkStrings(res, base, URI_KEYS, (value) => ${wrongPrefix}.test(value), (value, at) => { for (const f of ${fixes}) if (value.startsWith(f.wrong)) emit(out, ${R}, "value", at, "use " + f.right + "... instead of " + f.wrong + "..."); });`);
      w.close();
      return;
    }
    default: {
      const never: never = c;
      throw new Error(`unknown check kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The source of one layer's function: `checks` in order, each rule path as one block (its rule's `when` tested first). One function
 * rather than one per rule: measured, the calls cost more than the size (the Observation's is about 25 KB of bytecode, under
 * TurboFan's limit). The top-level properties the rules read are loaded once at the start.
 */
export function generateLayer(checks: readonly PlannedCheck[], name: string): GeneratedLayer {
  const w = new Writer();
  const ruleConst = new Map<RuleDef, string>();
  for (const planned of checks) {
    let R = ruleConst.get(planned.rule);
    if (!R) ruleConst.set(planned.rule, (R = w.constant(planned.rule)));
    // A comment naming the rule (characters that could end a comment replaced).
    w.line(`// ${planned.rule.id.replace(/[^\w.-]/g, '?')} (${planned.rule.check.kind}) ${planned.path.replace(/[^\w.[\]-]/g, '?')}`);
    w.open('');
    const opened = openConditions(w, planned.rule.when);
    writeCheck(w, planned, R);
    for (let i = 0; i < opened; i++) w.close();
    w.close();
  }
  const source = [
    "'use strict';",
    `const { ${RUNTIME_NAMES.join(', ')} } = rt;`,
    'const NONE = Object.freeze([]);',
    w.constants.length ? `const ${w.constants.map((_, i) => `K${i} = K[${i}]`).join(', ')};` : '',
    `return function ${name}(res, base, ctx, out) {`,
    '  const ro = typeof res === "object" && res !== null && !Array.isArray(res);',
    ...[...w.topLevelReads].map(([prop, v]) => `  const ${v} = ro ? res[${lit(prop)}] : undefined;`),
    w.text(),
    '};',
  ].join('\n');
  return { source, constants: w.constants };
}
