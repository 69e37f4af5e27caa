// Validates a source record against mappings/ilp-visit.schema.json with Ajv (compiled once per schema object) and turns Ajv errors into
// issues a facility operator understands, located at the source field (`measurements[2].unit`). Never echoes the record's values.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Issue } from '../validation/outcome.js';
import { stringProblems } from '../util/strict-strings.js';
import { hasMessage, messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';

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
    for (const a of schemaAnnotations(schema)) annotationPointers.set(a.node, a.pointer);
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

const TYPE_WORDS: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'object', 'array', 'boolean']);

/**
 * The catalogue key of the contract's own wording at the schema location of an error (`x-expected` / `x-anyOf` there,
 * messages/source-schema.json), or `fallback` when that location has none.
 */
function annotationKey(e: ErrorObject, annotation: 'x-expected' | 'x-anyOf', fallback: string): string {
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  // Ajv's schemaPath is relative to a referenced definition, so the location comes from the schema object itself.
  const pointer = parent && typeof parent[annotation] === 'string' ? annotationPointers.get(parent) : undefined;
  if (pointer === undefined) return fallback;
  const key = `source-schema.${annotation} ${pointer}`;
  return hasMessage(key) ? key : fallback;
}

/** JSON pointer of every subschema carrying an x-expected / x-anyOf annotation (filled when a schema is compiled). */
const annotationPointers = new WeakMap<object, string>();

/** The annotated subschemas of `schema` with their JSON pointers (for the catalogue keys, and the catalogue test). */
export function schemaAnnotations(schema: unknown): Array<{ node: Record<string, unknown>; pointer: string; annotation: 'x-expected' | 'x-anyOf'; text: string }> {
  const out: ReturnType<typeof schemaAnnotations> = [];
  const walk = (v: unknown, pointer: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${pointer}/${i}`));
    else if (v && typeof v === 'object') {
      const node = v as Record<string, unknown>;
      for (const annotation of ['x-expected', 'x-anyOf'] as const) {
        const text = node[annotation];
        if (typeof text === 'string') out.push({ node, pointer, annotation, text });
      }
      for (const [k, x] of Object.entries(node)) walk(x, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  };
  walk(schema, '');
  return out;
}

interface Described {
  path: string;
  key: string;
  params: Params;
}

function describe(e: ErrorObject): Described {
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const at = sourcePath(e.instancePath);
  // `{name}`: the field, or "the record" for the top level.
  const name: Params = at ? { name: at } : { '@name': 'source.the-record' };
  const p = e.params as Record<string, unknown>;
  const limit = { ...name, limit: Number(p.limit) };
  switch (e.keyword) {
    case 'required': {
      const path = sourcePath(e.instancePath, String(p.missingProperty));
      return { path, key: 'source.schema.required', params: { path } };
    }
    case 'additionalProperties': {
      // Never the key itself: it can be data typed as a key (a patient's name, a NIK). Its position tells the operator which one.
      const prop = String(p.additionalProperty);
      const position = e.data && typeof e.data === 'object' ? Object.keys(e.data).indexOf(prop) + 1 : 0;
      const allowed = Object.keys((parent.properties as object) ?? {}).join(', ');
      const key = `source.schema.unknown-field.${at ? 'at' : 'top'}${position > 0 ? '' : '-unplaced'}`;
      return { path: at, key, params: { at, position, allowed } };
    }
    case 'type': {
      const type = String(p.type);
      return TYPE_WORDS.has(type)
        ? { path: at, key: 'source.schema.type', params: { ...name, '@expected': `source.schema.type.${type}` } }
        : { path: at, key: 'source.schema.type', params: { ...name, expected: type } };
    }
    case 'enum':
      return { path: at, key: 'source.schema.enum', params: { ...name, allowed: (p.allowedValues as unknown[]).join(', ') } };
    case 'pattern':
      return { path: at, key: 'source.schema.pattern', params: { ...name, '@expected': annotationKey(e, 'x-expected', 'source.schema.pattern.default') } };
    case 'minLength':
      return Number(p.limit) <= 1 ? { path: at, key: 'source.schema.not-empty', params: name } : { path: at, key: 'source.schema.min-length', params: limit };
    case 'maxLength':
      return { path: at, key: 'source.schema.max-length', params: limit };
    case 'minimum':
      return { path: at, key: 'source.schema.minimum', params: limit };
    case 'maximum':
      return { path: at, key: 'source.schema.maximum', params: limit };
    case 'maxItems':
      return { path: at, key: 'source.schema.max-items', params: limit };
    case 'minItems':
      return { path: at, key: 'source.schema.min-items', params: limit };
    case 'anyOf':
    case 'oneOf':
      return { path: at, key: 'source.schema.any-of', params: { ...name, '@expected': annotationKey(e, 'x-anyOf', 'source.schema.any-of.default') } };
    default:
      return { path: at, key: 'source.schema.invalid', params: { ...name, keyword: e.keyword } };
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
      return messageIssue('error', 'value', 'source.string.bad', { path: at, '@problem': problem.key, ...problem.params }, at);
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
    const code = e.keyword === 'required' ? 'required' : e.keyword === 'additionalProperties' || e.keyword === 'type' ? 'structure' : 'value';
    const made = messageIssue('error', code, d.key, d.params, d.path || undefined);
    if (seen.has(made.diagnostics)) continue;
    seen.add(made.diagnostics);
    out.push(made);
  }
  return out;
}

export function capIssues(list: Issue[]): Issue[] {
  if (list.length <= MAX_ISSUES) return list;
  const kept = list.slice(0, MAX_ISSUES);
  kept.push(messageIssue('error', 'too-costly', 'source.issues.capped', { count: list.length - MAX_ISSUES }));
  return kept;
}

/** The top-level array fields with a maxItems, per schema object, in the schema's order (read once, not per record). */
const arrayLimits = new WeakMap<object, Array<[string, number]>>();

/** Rejects over-long arrays before Ajv walks them (with allErrors Ajv would visit every item). Limits come from the schema. */
export function oversizedArrays(record: unknown, schema: Record<string, unknown>): Issue[] {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return [];
  let limits = arrayLimits.get(schema);
  if (!limits) {
    const props = (schema.properties ?? {}) as Record<string, { maxItems?: number }>;
    limits = Object.entries(props).filter(([, def]) => def.maxItems !== undefined).map(([k, def]) => [k, def.maxItems as number]);
    arrayLimits.set(schema, limits);
  }
  const out: Issue[] = [];
  for (const [k, max] of limits) {
    const v = (record as Record<string, unknown>)[k];
    if (Array.isArray(v) && v.length > max) {
      out.push(messageIssue('error', 'too-costly', 'source.array.oversized', { field: k, count: v.length, max }, k));
    }
  }
  return out;
}
