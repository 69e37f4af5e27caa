// Validates a source record against mappings/ilp-visit.schema.json with Ajv (compiled once per schema object) and turns Ajv errors into
// issues a facility operator understands, located at the source field (`measurements[2].unit`). Never echoes the record's values.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { issue, type Issue } from '../validation/outcome.js';
import { stringProblems } from '../util/strict-strings.js';

/** At most this many issues are reported for one record; the rest are summarised. */
export const MAX_ISSUES = 50;

const compiled = new WeakMap<object, ValidateFunction>();

export function sourceValidator(schema: Record<string, unknown>): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    // strictRequired off: anyOf branches name properties declared beside them, which is fine. verbose: errors carry parentSchema, whose x-expected / x-anyOf annotations give the operator-facing wording.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    ajv.addVocabulary(['x-expected', 'x-anyOf', 'x-version']);
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** `/measurements/2/unit` → `measurements[2].unit` */
export function sourcePath(instancePath: string, child?: string): string {
  let out = '';
  const parts = instancePath ? instancePath.slice(1).split('/') : [];
  if (child !== undefined) parts.push(child);
  for (const raw of parts) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text (a JSON string)',
  number: 'a number (not text)',
  integer: 'a whole number',
  object: 'an object',
  array: 'a list (JSON array)',
  boolean: 'true or false',
};

function describe(e: ErrorObject): { path: string; text: string } | undefined {
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const at = sourcePath(e.instancePath);
  const name = at || 'the record';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const path = sourcePath(e.instancePath, String(p.missingProperty));
      return { path, text: `${path} is required` };
    }
    case 'additionalProperties': {
      // Never the key itself: it can be data typed as a key (a patient's name, a NIK). Its position tells the operator which one.
      const prop = String(p.additionalProperty);
      const position = e.data && typeof e.data === 'object' ? Object.keys(e.data).indexOf(prop) + 1 : 0;
      const where = at ? `at ${at}` : 'at the top level of the record';
      const nth = position > 0 ? `field ${position} there, ` : '';
      const allowed = Object.keys((parent.properties as object) ?? {}).join(', ');
      return { path: at, text: `unknown field ${where} (${nth}not in the contract; its name is not shown); allowed fields: ${allowed}` };
    }
    case 'type':
      return { path: at, text: `${name} must be ${TYPE_WORDS[String(p.type)] ?? String(p.type)}` };
    case 'enum':
      return { path: at, text: `${name} must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'pattern':
      return { path: at, text: `${name} must be ${String(parent['x-expected'] ?? 'in the documented format')}` };
    case 'minLength':
      return { path: at, text: Number(p.limit) <= 1 ? `${name} must not be empty` : `${name} must have at least ${p.limit} characters` };
    case 'maxLength':
      return { path: at, text: `${name} is too long: at most ${p.limit} characters` };
    case 'minimum':
      return { path: at, text: `${name} must be at least ${p.limit}` };
    case 'maximum':
      return { path: at, text: `${name} must be at most ${p.limit}` };
    case 'maxItems':
      return { path: at, text: `${name} has too many entries: at most ${p.limit} are accepted` };
    case 'minItems':
      return { path: at, text: `${name} needs at least ${p.limit} entries` };
    case 'anyOf':
    case 'oneOf':
      return { path: at, text: `${name} ${String(parent['x-anyOf'] ?? 'does not match any accepted form')}` };
    default:
      return { path: at, text: `${name} is not valid (${e.keyword})` };
  }
}

/** Schema errors plus strict-string problems (at their field; fields Ajv already faults and unknown fields are not repeated). */
export function sourceRecordIssues(record: unknown, schema: Record<string, unknown>): Issue[] {
  const validate = sourceValidator(schema);
  const errors = validate(record) ? [] : validate.errors ?? [];
  const unknown = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') unknown.add(`${e.instancePath}/${String(e.params.additionalProperty).replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
  const faulted = new Set(errors.map((e) => e.instancePath));
  const text = stringProblems(record, unknown)
    .filter(([pointer]) => !faulted.has(pointer))
    .map(([pointer, problem]) => {
      const at = sourcePath(pointer);
      return issue('error', 'value', `${at} ${problem}; remove it`, at);
    });
  return capIssues([...ajvIssues(errors), ...text]);
}

/** Translates Ajv errors (at most MAX_ISSUES, the rest summarised). */
export function translateAjvErrors(errors: readonly ErrorObject[]): Issue[] {
  return capIssues(ajvIssues(errors));
}

/** Errors inside an anyOf branch are folded into the anyOf's own message; repeated messages go. */
function ajvIssues(errors: readonly ErrorObject[]): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (/\/(anyOf|oneOf)\/\d+\//.test(e.schemaPath)) continue;
    const d = describe(e);
    if (!d || seen.has(d.text)) continue;
    seen.add(d.text);
    const code = e.keyword === 'required' ? 'required' : e.keyword === 'additionalProperties' || e.keyword === 'type' ? 'structure' : 'value';
    out.push(issue('error', code, d.text, d.path || undefined));
  }
  return out;
}

export function capIssues(list: Issue[]): Issue[] {
  if (list.length <= MAX_ISSUES) return list;
  const kept = list.slice(0, MAX_ISSUES);
  kept.push(issue('error', 'too-costly', `${list.length - MAX_ISSUES} further problems not listed; fix the ones above first`));
  return kept;
}

/** Rejects over-long arrays before Ajv walks them (with allErrors Ajv would visit every item). Limits come from the schema. */
export function oversizedArrays(record: unknown, schema: Record<string, unknown>): Issue[] {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return [];
  const props = (schema.properties ?? {}) as Record<string, { maxItems?: number }>;
  const out: Issue[] = [];
  for (const [k, def] of Object.entries(props)) {
    const v = (record as Record<string, unknown>)[k];
    if (def.maxItems !== undefined && Array.isArray(v) && v.length > def.maxItems) {
      out.push(issue('error', 'too-costly', `${k} has ${v.length} entries; at most ${def.maxItems} are accepted per visit`, k));
    }
  }
  return out;
}
