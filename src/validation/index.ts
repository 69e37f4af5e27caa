// The validator: FHIR R4 structure (layer 1) → SATUSEHAT profile rules (layer 2) → Bundle rules (layer 3).
// Pure: no I/O after createValidator(), no clock reads (opts.now), issues out as OperationOutcome-ready `Issue`s.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { profilesDir } from '../util/paths.js';
import { issue, type Issue } from './outcome.js';
import { loadR4Module, R4Structure, quotedName, GENERATED_R4_MODULE } from './r4-structure.js';
import { compileRules, type CompiledRules, type RuleContext, type RuleDef, type RuleSet } from './rule-engine.js';
import { checkBundle, type UriScan } from './bundle-rules.js';
import { createBindingChecker, loadRequiredBindings, type RequiredBindingsData } from './required-bindings.js';

export type { Issue } from './outcome.js';
export type { RuleDef, Confidence, Check } from './rule-engine.js';

export interface ValidateOptions {
  /** For "not in the future" checks; validation never reads the clock. */
  now: Date;
  /** Base FHIR R4 only, no SATUSEHAT rules (?profile=http://hl7.org/fhir/StructureDefinition/{type}, CLI --base-r4). */
  baseOnly?: boolean;
  /** From POST /fhir/{type}/$validate: a different resourceType is an error. */
  expectedType?: string;
  /** The caller's SATUSEHAT organization id when known: identifier systems are checked against it (rule 10117, 10441). */
  organizationId?: string;
}

export interface Validator {
  validate(payload: unknown, opts: ValidateOptions): Issue[];
  readonly resourceTypes: readonly string[];
  /** The loaded profile rules (for the README rule table, CapabilityStatement, tests). */
  readonly rules: readonly RuleDef[];
  readonly rulesVersion: string;
}

export interface CreateValidatorOptions {
  /** Rule data; default profiles/satusehat-rules.json. */
  rules?: RuleSet;
  /** Generated R4 module path; default generated/r4/validators.cjs. */
  r4Module?: string;
  /** Generated R4 required bindings; default generated/r4/required-bindings.json. */
  requiredBindings?: RequiredBindingsData;
}

export const RULES_FILE = path.join(profilesDir, 'satusehat-rules.json');
/** Issues beyond this are summarised: a pathological payload must not produce a megabyte OperationOutcome. */
export const MAX_ISSUES = 500;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function loadRuleSet(file = RULES_FILE): RuleSet {
  return JSON.parse(readFileSync(file, 'utf8')) as RuleSet;
}

/** Loads profiles/ and the precompiled R4 validators (about 0.1 s); the returned validator is reusable and stateless. */
export function createValidator(options: CreateValidatorOptions = {}): Validator {
  const rules: CompiledRules = compileRules(options.rules ?? loadRuleSet());
  const noCtx: RuleContext = { nowMs: 0 };
  const bindings = options.requiredBindings ?? loadRequiredBindings();
  // Base-R4 cardinality rules and required bindings run for every resource the structure layer sees, nested ones included.
  // Caller-supplied bindings data never counts as the generated data (the structure layer's fast path checks that one).
  const structure = new R4Structure(
    loadR4Module(options.r4Module ?? GENERATED_R4_MODULE),
    (res, base, out) => rules.run(res, base, noCtx, out, 'base'),
    { check: createBindingChecker(bindings), inputHash: options.requiredBindings ? undefined : bindings.inputHash },
  );

  function validate(payload: unknown, opts: ValidateOptions): Issue[] {
    const out: Issue[] = [];
    if (!isObj(payload)) {
      out.push(issue('error', 'structure', 'Payload must be a JSON object (a FHIR resource)'));
      return out;
    }
    const type = payload.resourceType;
    if (typeof type !== 'string' || type === '') {
      out.push(issue('error', 'required', 'Missing resourceType: the payload is not a FHIR resource', 'resourceType'));
      return out;
    }
    const base = structure.has(type) ? type : 'Resource';
    if (opts.expectedType !== undefined && opts.expectedType !== type) {
      out.push(issue('error', 'invalid', `resourceType ${quotedName(type)} does not match the expected type ${quotedName(opts.expectedType)}`, `${base}.resourceType`));
    }
    if (!structure.has(type)) {
      out.push(issue('error', 'not-supported', `Unknown resourceType ${quotedName(type)}: not a FHIR R4 resource type`, 'Resource.resourceType'));
      return out;
    }
    // Layer 1 (+ base-R4 cardinality via the hook), for the resource and every nested resource.
    structure.validate(payload, base, out);
    if (!opts.baseOnly) {
      const ctx: RuleContext = { nowMs: opts.now.getTime(), organizationId: opts.organizationId };
      if (type === 'Bundle') {
        // Layer 3, then layer 2 for each entry with its expression prefixed Bundle.entry[i].resource. Layer 3's walk of each entry
        // also tells layer 2 which entries cannot have a URI-scheme finding (uriScan.clear), so those are not walked twice.
        const uriScan: UriScan | undefined = rules.uriSchemePrefix ? { prefix: rules.uriSchemePrefix, clear: [] } : undefined;
        ctx.refTypes = checkBundle(payload, base, out, uriScan);
        const entries = Array.isArray(payload.entry) ? payload.entry : [];
        for (let i = 0; i < entries.length; i++) {
          const r = isObj(entries[i]) ? (entries[i] as Record<string, unknown>).resource : undefined;
          if (isObj(r) && typeof r.resourceType === 'string' && r.resourceType !== 'Bundle' && structure.has(r.resourceType)) {
            ctx.uriSchemeClear = uriScan !== undefined && uriScan.clear[i] === true;
            rules.run(r, `${base}.entry[${i}].resource`, ctx, out, 'profile');
          }
        }
      } else {
        rules.run(payload, base, ctx, out, 'profile');
      }
    }
    return cap(out);
  }

  return { validate, resourceTypes: structure.resourceTypes, rules: rules.rules, rulesVersion: rules.version };
}

function cap(out: Issue[]): Issue[] {
  if (out.length <= MAX_ISSUES) return out;
  const kept = out.slice(0, MAX_ISSUES);
  const hidden = out.length - MAX_ISSUES;
  kept.push(issue(out.slice(MAX_ISSUES).some((i) => i.severity === 'error') ? 'error' : 'warning', 'too-costly', `${hidden} further issues not listed`));
  return kept;
}
