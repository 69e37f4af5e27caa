// What the simulator knows per resource type: which search parameters exist and how to index them, who may write it,
// and which of them the platform honours (mappings/platform-search.json; the platform silently drops the others).
import { ownEntry } from '../util/own.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR JSON walked generically

export type ParamKind = 'token' | 'reference' | 'date' | 'string';

export interface SearchParamSpec {
  kind: ParamKind;
  /** Resource type a bare id refers to (reference params): `subject=P123` → `Patient/P123`. */
  target?: string;
  /** Index keys of a resource for this parameter (already normalised, see indexKeysFor*). */
  extract: (r: Json) => string[];
}

export interface TypeSpec {
  /** Created through the generic POST/PUT (Patient has its own MPI handler; Practitioner is read-only). */
  genericWrite: boolean;
  /** Belongs to the creating client's organization (others cannot read it). Master data (Patient, Practitioner) does not. */
  owned: boolean;
  /** Identifiers of this type must be unique (duplicate, rule 20002): recorded for Encounter, Location and Organization. */
  uniqueIdentifier: boolean;
  params: Record<string, SearchParamSpec>;
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

/** Token keys: `sys|val` (exact), `*|val` (any system), `sys|*` (any value of a system). */
export function identifierKeys(r: Json): string[] {
  const out: string[] = [];
  for (const id of arr(r.identifier)) {
    if (!id || typeof id.value !== 'string') continue;
    const sys = typeof id.system === 'string' ? id.system : '';
    out.push(`${sys}|${id.value}`, `*|${id.value}`);
    if (sys) out.push(`${sys}|*`);
  }
  return out;
}

/** Reference keys are `Type/id` (absolute URLs and `_history` suffixes are reduced to that). */
export function normaliseReference(ref: unknown, target?: string): string | undefined {
  if (typeof ref !== 'string' || !ref) return undefined;
  const parts = ref.split('/').filter(Boolean);
  const hist = parts.indexOf('_history');
  const p = hist >= 0 ? parts.slice(0, hist) : parts;
  if (p.length >= 2) return `${p[p.length - 2]}/${p[p.length - 1]}`;
  return target ? `${target}/${p[0]}` : undefined;
}

const refKeys = (get: (r: Json) => unknown, onlyType?: string) => (r: Json): string[] =>
  arr(get(r))
    .map((x) => normaliseReference(x?.reference))
    .filter((k): k is string => !!k && (!onlyType || k.startsWith(`${onlyType}/`)));

const dateKeys = (get: (r: Json) => unknown) => (r: Json): string[] => {
  const v = get(r);
  return typeof v === 'string' && v.length >= 10 ? [v.slice(0, 10)] : [];
};

/** Lower-cased words of a name, and the whole name: `name=` matches a whole word or the whole text (no prefix search). */
const nameKeys = (get: (r: Json) => unknown) => (r: Json): string[] => {
  const texts: string[] = [];
  for (const n of arr(get(r))) {
    if (typeof n === 'string') texts.push(n);
    else if (n && typeof n === 'object') {
      if (typeof n.text === 'string') texts.push(n.text);
      if (typeof n.family === 'string') texts.push(n.family);
      for (const g of arr(n.given)) if (typeof g === 'string') texts.push(g);
    }
  }
  const keys = new Set<string>();
  for (const t of texts) {
    const lower = t.trim().toLowerCase();
    if (lower) keys.add(lower);
    for (const w of lower.split(/\s+/)) if (w) keys.add(w);
  }
  return [...keys];
};

const identifier: SearchParamSpec = { kind: 'token', extract: identifierKeys };
const gender: SearchParamSpec = { kind: 'token', extract: (r) => (typeof r.gender === 'string' ? [`*|${r.gender}`] : []) };
const personName: SearchParamSpec = { kind: 'string', extract: nameKeys((r) => r.name) };

/** Observation and Condition: identifier, the patient as `subject` (or `patient`), and the visit as `encounter`. */
const clinicalParams: Record<string, SearchParamSpec> = {
  identifier,
  subject: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject) },
  patient: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject, 'Patient') },
  encounter: { kind: 'reference', target: 'Encounter', extract: refKeys((r) => r.encounter) },
};

/** By resource type; look types from requests up with typeSpec(), never TYPES[type] (`constructor` is a member of every object). */
export const TYPES: Record<string, TypeSpec> = {
  Patient: {
    genericWrite: false, owned: false, uniqueIdentifier: false,
    params: { identifier, name: personName, gender, birthdate: { kind: 'date', extract: dateKeys((r) => r.birthDate) } },
  },
  Practitioner: {
    genericWrite: false, owned: false, uniqueIdentifier: false,
    params: { identifier, name: personName, gender, birthdate: { kind: 'date', extract: dateKeys((r) => r.birthDate) } },
  },
  Organization: {
    genericWrite: true, owned: true, uniqueIdentifier: true,
    params: { identifier, name: personName, partof: { kind: 'reference', target: 'Organization', extract: refKeys((r) => r.partOf) } },
  },
  Location: {
    genericWrite: true, owned: true, uniqueIdentifier: true,
    params: {
      identifier,
      name: personName,
      organization: { kind: 'reference', target: 'Organization', extract: refKeys((r) => r.managingOrganization) },
      partof: { kind: 'reference', target: 'Location', extract: refKeys((r) => r.partOf) },
    },
  },
  Encounter: {
    genericWrite: true, owned: true, uniqueIdentifier: true,
    params: {
      identifier,
      subject: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject) },
      patient: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject, 'Patient') },
    },
  },
  Observation: {
    genericWrite: true, owned: true, uniqueIdentifier: false,
    params: clinicalParams,
  },
  Immunization: {
    genericWrite: true, owned: true, uniqueIdentifier: false,
    params: {
      identifier,
      patient: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.patient) },
      // Not an R4 Immunization parameter; accepted as an alias of `patient` for clients that use one name for all types.
      subject: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.patient) },
      encounter: { kind: 'reference', target: 'Encounter', extract: refKeys((r) => r.encounter) },
      date: { kind: 'date', extract: dateKeys((r) => r.occurrenceDateTime) },
    },
  },
  // The diagnosis the platform requires on a finished Encounter (rule 10457), referenced from Encounter.diagnosis.
  Condition: {
    genericWrite: true, owned: true, uniqueIdentifier: false,
    params: clinicalParams,
  },
};

/** Reference types whose targets must exist on write (reference_not_found, or rule 20007 in the documented style). */
/** The spec of a resource type named by a request, or undefined for one the simulator does not serve. */
export const typeSpec = (type: string): TypeSpec | undefined => ownEntry(TYPES, type);

export const CHECKED_REFERENCE_TYPES = new Set(['Patient', 'Practitioner', 'Location', 'Encounter', 'Organization', 'Condition']);

export { PLATFORM_SEARCH_PARAMS } from '../platform/search-params.js';
