// Layer 1: base FHIR R4 structure, with the official R4 JSON schema compiled ahead of time (scripts/gen-r4-validators.mjs).
// One validate function per resource type; nested resources (Bundle.entry.resource, contained, Parameters.parameter.resource)
// are validated separately by their own type's function, so no validator drags in the whole 146-type ResourceList.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/paths.js';
import { issue, type Issue } from './outcome.js';

interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
/** The generated fast path: true only when the Ajv validator of the same type accepts the value and the required-bindings walk
 *  of the data it was generated from would report nothing (scripts/r4-fast-checks.mjs). */
type FastCheck = (data: unknown) => boolean;
export interface FastChecks {
  /** inputHash of the required-bindings data the checks were generated with. */
  bindingsHash: string;
  checks: Record<string, FastCheck>;
}

export const GENERATED_R4_MODULE = path.join(packageRoot, 'generated', 'r4', 'validators.cjs');

/** Nested resources deeper than this (Bundle in contained in Bundle ...) are not followed. */
const MAX_RESOURCE_NESTING = 16;
/** Ajv error objects translated per resource; the rest are summarised in one issue. */
const MAX_ERRORS_PER_RESOURCE = 100;

export interface R4Module {
  fns: Record<string, ValidateFn>;
  /** Resource type → its valid-or-not fast path; without one a type always runs its Ajv validator and the bindings walk. */
  fast?: FastChecks;
  /** Schema pattern → FHIR primitive type name(s), for messages ("invalid dateTime"). */
  patterns: Record<string, string>;
}

/** Loads the generated module (one CJS file holding every resource type's validate function), the fast path beside it
 *  (fast-checks.cjs) and meta.json. */
export function loadR4Module(file = GENERATED_R4_MODULE): R4Module {
  const metaFile = path.join(path.dirname(file), 'meta.json');
  const fastFile = path.join(path.dirname(file), 'fast-checks.cjs');
  if (!existsSync(file) || !existsSync(metaFile) || !existsSync(fastFile)) {
    throw new Error(`Precompiled FHIR R4 validators not found (${path.relative(packageRoot, file)}): run "npm run build" (scripts/gen-r4-validators.mjs, gen-r4-bindings.mjs, gen-r4-fast-checks.mjs)`);
  }
  // createRequire: the generated code is CommonJS and requires ajv's small runtime helpers.
  const req = createRequire(import.meta.url);
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { primitivePatterns?: Record<string, string> };
  const fast = req(fastFile) as { bindingsHash: string; createFastChecks: () => Record<string, FastCheck> };
  return {
    fns: req(file) as Record<string, ValidateFn>,
    fast: { bindingsHash: fast.bindingsHash, checks: fast.createFastChecks() },
    patterns: meta.primitivePatterns ?? {},
  };
}

/** `/entry/2/resource/code` under base `Bundle` → `Bundle.entry[2].resource.code`. */
export function pointerToFhirPath(base: string, pointer: string): string {
  if (!pointer) return base;
  let out = base;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.includes('~') ? raw.replace(/~1/g, '/').replace(/~0/g, '~') : raw;
    out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function translate(err: AjvError, base: string, patterns: Record<string, string>, data: unknown): Issue {
  const at = pointerToFhirPath(base, err.instancePath);
  switch (err.keyword) {
    case 'additionalProperties': {
      // Never the key itself, even a plain-looking one: it can be data typed as a key (a patient's name, a NIK). Located at its
      // parent and by its position there.
      const keys = isObj(data) ? Object.keys(data) : [];
      const position = keys.indexOf(String(err.params.additionalProperty)) + 1;
      const nth = position > 0 ? ` (element ${position} of ${keys.length} there; its name is not shown)` : ' (its name is not shown)';
      return issue('error', 'structure', `Unknown element at ${at}${nth}: not part of FHIR R4 here`, at);
    }
    case 'required':
      return issue('error', 'required', `Missing required element '${String(err.params.missingProperty)}' (FHIR R4)`, `${at}.${String(err.params.missingProperty)}`);
    case 'type': {
      const t = String(err.params.type);
      const what = t === 'array' ? 'an array (repeating element)' : t === 'object' ? 'a JSON object' : `a JSON ${t}`;
      return issue('error', 'structure', `Wrong JSON type: must be ${what}`, at);
    }
    case 'pattern':
      // Never echo the value: it may be a NIK or a name.
      return issue('error', 'value', `Invalid value for FHIR R4 type ${patterns[String(err.params.pattern)] ?? 'primitive'}`, at);
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[] | undefined) ?? [];
      const list = allowed.slice(0, 12).map(String).join(', ') + (allowed.length > 12 ? ', ...' : '');
      return issue('error', 'value', `Value not allowed: must be one of ${list}`, at);
    }
    case 'const':
      return issue('error', 'value', `Value must be '${String(err.params.allowedValue)}'`, at);
    case 'oneOf':
    case 'anyOf':
      return issue('error', 'structure', 'Does not match any allowed form of this FHIR R4 element', at);
    default:
      return issue('error', 'structure', `Invalid structure: ${err.message ?? err.keyword}`, at);
  }
}

/** The value at a JSON pointer under `root` (own properties only), for locating an unknown element by position. */
function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer ? pointer.slice(1).split('/') : []) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Turns Ajv errors into issues: the sub-errors of a failed oneOf/anyOf collapse into that one issue; duplicates go. `root` is the
 *  validated value (for positions). */
export function ajvErrorsToIssues(errors: readonly AjvError[], base: string, out: Issue[], patterns: Record<string, string> = {}, root?: unknown): void {
  let list: readonly AjvError[] = errors;
  if (errors.some((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    // Ajv pushes a oneOf's branch errors before the oneOf error itself: drop those under the same instance path.
    const kept: AjvError[] = [];
    for (const e of errors) {
      if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
        for (let i = kept.length - 1; i >= 0; i--) {
          const p = kept[i].instancePath;
          if (p === e.instancePath || p.startsWith(`${e.instancePath}/`)) kept.splice(i, 1);
        }
      }
      kept.push(e);
    }
    list = kept;
  }
  // A wrong JSON type makes the other keyword errors at the same place (pattern, enum) noise.
  const typeAt = new Set(list.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  if (typeAt.size) list = list.filter((e) => e.keyword === 'type' || !typeAt.has(e.instancePath));
  const seen = new Set<string>();
  let n = 0;
  for (const e of list) {
    const iss = translate(e, base, patterns, e.keyword === 'additionalProperties' ? valueAt(root, e.instancePath) : undefined);
    const key = `${iss.expression?.[0]}|${iss.diagnostics}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (n++ >= MAX_ERRORS_PER_RESOURCE) {
      out.push(issue('error', 'too-costly', `More structural errors in this resource were not listed (${list.length} in all)`, base));
      return;
    }
    out.push(iss);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Extra per-resource checks run alongside the schema (e.g. base-R4 cardinality the JSON schema cannot express). */
export type ResourceHook = (resource: Record<string, unknown>, base: string, out: Issue[]) => void;

/** The required-bindings check, run after the hook. `inputHash`: the generated data it checks (undefined: other data); the fast
 *  path, which checks the bindings it was generated with, stands in for it only when that is the same data. */
export interface StructureBindings {
  check: ResourceHook;
  inputHash: string | undefined;
}

export class R4Structure {
  readonly resourceTypes: readonly string[];
  private readonly fns: Record<string, ValidateFn>;
  private readonly fast: ReadonlyMap<string, FastCheck>;
  /** The module's own keys but `default`: a Map lookup per resource instead of hasOwnProperty on a 146-key object. */
  private readonly known: ReadonlySet<string>;
  private readonly patterns: Record<string, string>;

  constructor(
    mod: R4Module,
    private readonly hook?: ResourceHook,
    private readonly bindings?: StructureBindings,
  ) {
    const fns = mod.fns;
    this.fns = fns;
    this.patterns = mod.patterns;
    this.resourceTypes = Object.keys(fns).filter((k) => k !== 'default' && typeof fns[k] === 'function').sort();
    this.known = new Set(Object.keys(fns).filter((k) => k !== 'default'));
    const fastApplies = mod.fast !== undefined && (bindings === undefined || bindings.inputHash === mod.fast.bindingsHash);
    this.fast = new Map(fastApplies ? Object.entries(mod.fast?.checks ?? {}).filter(([k]) => this.known.has(k)) : []);
  }

  has(type: string): boolean {
    return this.known.has(type);
  }

  /** Validates one resource (and, recursively, the resources nested in it); `base` is its FHIRPath location. */
  validate(resource: Record<string, unknown>, base: string, out: Issue[], depth = 0): void {
    const type = resource.resourceType;
    if (typeof type !== 'string' || !this.has(type)) {
      out.push(issue('error', 'not-supported', `Unknown resourceType ${quotedName(type)}: not a FHIR R4 resource type`, `${base}.resourceType`));
      return;
    }
    const fn = this.fns[type];
    const fast = this.fast.get(type);
    // Most resources are valid with clean bindings: the fast path says so in one walk, without Ajv's error bookkeeping;
    // otherwise (or if it runs out of stack) Ajv and the bindings walk list the issues, as without it.
    let clean = false;
    if (fast !== undefined) {
      try {
        clean = fast(resource);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    }
    let ok: boolean;
    try {
      ok = clean || fn(resource);
    } catch (e) {
      // Pathologically deep input can exhaust the stack inside the generated recursive validators.
      if (e instanceof RangeError) {
        out.push(issue('error', 'too-costly', 'Resource is nested too deeply to validate', base));
        return;
      }
      throw e;
    }
    if (!ok && fn.errors) ajvErrorsToIssues(fn.errors, base, out, this.patterns, resource);
    this.hook?.(resource, base, out);
    if (!clean) this.bindings?.check(resource, base, out);
    if (depth >= MAX_RESOURCE_NESTING) {
      if (hasNested(resource)) out.push(issue('error', 'too-costly', `Resources nested more than ${MAX_RESOURCE_NESTING} levels deep are not validated`, base));
      return;
    }
    this.validateNested(resource, type, base, out, depth + 1);
  }

  private validateNested(resource: Record<string, unknown>, type: string, base: string, out: Issue[], depth: number): void {
    // The common case (a Bundle entry's resource): nothing nested, so no closures to make.
    if (type !== 'Bundle' && type !== 'Parameters' && !Array.isArray(resource.contained)) return;
    const each = (arr: unknown, at: string, visit: (item: Record<string, unknown>, itemPath: string) => void) => {
      if (!Array.isArray(arr)) return;
      for (let i = 0; i < arr.length; i++) if (isObj(arr[i])) visit(arr[i] as Record<string, unknown>, `${at}[${i}]`);
    };
    const nested = (r: unknown, at: string) => {
      if (isObj(r) && typeof r.resourceType === 'string') this.validate(r, at, out, depth);
    };
    if (type === 'Bundle') {
      each(resource.entry, `${base}.entry`, (e, p) => {
        nested(e.resource, `${p}.resource`);
        if (isObj(e.response)) nested(e.response.outcome, `${p}.response.outcome`);
      });
    } else if (type === 'Parameters') {
      const params = (arr: unknown, at: string, level: number) => {
        each(arr, at, (p, pp) => {
          nested(p.resource, `${pp}.resource`);
          if (level < MAX_RESOURCE_NESTING) params(p.part, `${pp}.part`, level + 1);
        });
      };
      params(resource.parameter, `${base}.parameter`, 0);
    }
    each(resource.contained, `${base}.contained`, (c, p) => nested(c, p));
  }
}

function hasNested(r: Record<string, unknown>): boolean {
  return Array.isArray(r.contained) || Array.isArray(r.entry) || Array.isArray(r.parameter);
}

/**
 * A name taken from the payload (a resourceType, an element name) as it may appear in a message or an expression:
 * non-name characters stripped, and only when what is left looks like a FHIR name. Anything that may be personal data
 * (a NIK or phone number typed into a key: digit runs; a person's name: whitespace) is never echoed: undefined.
 */
export function safeName(v: unknown): string | undefined {
  if (typeof v !== 'string' || /\s/.test(v)) return undefined;
  const s = v.replace(/[^A-Za-z0-9_-]/g, '');
  return /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(s) && !/\d{4}/.test(s) ? s : undefined;
}

/** `'Name'` for messages, or a neutral phrase when the name must not be echoed. */
export function quotedName(v: unknown): string {
  const s = safeName(v);
  return s === undefined ? '(not shown: not a FHIR name)' : `'${s}'`;
}
