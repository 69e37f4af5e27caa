// What the simulator knows per resource type: which search parameters exist and how to index them, who may write it.
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR JSON walked generically

export type ParamKind = 'token' | 'reference' | 'date';

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
  /** Identifiers of this type must be unique (rule 20002) — platform behaviour confirmed for Encounter only. */
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

const identifier: SearchParamSpec = { kind: 'token', extract: identifierKeys };

/** Search parameters of the clinical resources that hang off a visit through `subject` and `encounter` (Observation, Condition). */
const clinicalParams: Record<string, SearchParamSpec> = {
  identifier,
  subject: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject) },
  patient: { kind: 'reference', target: 'Patient', extract: refKeys((r) => r.subject, 'Patient') },
  encounter: { kind: 'reference', target: 'Encounter', extract: refKeys((r) => r.encounter) },
};

export const TYPES: Record<string, TypeSpec> = {
  Patient: { genericWrite: false, owned: false, uniqueIdentifier: false, params: { identifier } },
  Practitioner: { genericWrite: false, owned: false, uniqueIdentifier: false, params: { identifier } },
  Organization: {
    genericWrite: true, owned: true, uniqueIdentifier: false,
    params: { identifier, partof: { kind: 'reference', target: 'Organization', extract: refKeys((r) => r.partOf) } },
  },
  Location: {
    genericWrite: true, owned: true, uniqueIdentifier: false,
    params: {
      identifier,
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
  Observation: { genericWrite: true, owned: true, uniqueIdentifier: false, params: clinicalParams },
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
  Condition: { genericWrite: true, owned: true, uniqueIdentifier: false, params: clinicalParams },
};

/** Reference types whose targets must exist on write (rule 20007). */
export const CHECKED_REFERENCE_TYPES = new Set(['Patient', 'Practitioner', 'Location', 'Encounter']);
