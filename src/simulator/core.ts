// The simulator's state and the write pipeline shared by single requests and transactions:
// business checks (10117, 20002, 20007), the service validator, then commit with server ids and versions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { FhirStore } from './fhir-store.js';
import { parseNik } from './nik.js';
import { DEMO_CLIENT, type PayloadValidator, type SeedPatient, type SeedPractitioner, type SimulatorClient, type SimulatorOptions } from './options.js';
import { messages, plainIssue, ruleIssue, fromValidatorIssue, type PlatformIssue } from './platform-outcome.js';
import { createPrng, digitsFrom, uuidFrom } from './prng.js';
import { findReferences, parseRelative } from './references.js';
import { CHECKED_REFERENCE_TYPES, TYPES, identifierKeys, type Json } from './resource-types.js';

export const SYS = {
  nik: 'https://fhir.kemkes.go.id/id/nik',
  nikIbu: 'https://fhir.kemkes.go.id/id/nik-ibu',
  ihs: 'https://fhir.kemkes.go.id/id/ihs-number',
  nakes: 'https://fhir.kemkes.go.id/id/nakes-his-number',
  encounterPrefix: 'http://sys-ids.kemkes.go.id/encounter/',
} as const;

/** Resource types the service validator has profiles for; others (Location, Organization) get business checks only. */
const VALIDATED_TYPES = new Set(['Patient', 'Encounter', 'Observation', 'Immunization', 'Condition']);
/** Checked here (switchable by `requireDiagnosis`), not taken from the validator. */
const DIAGNOSIS_RULE = '10457';

export interface SimResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** True when the request changed the store (a drop-after-commit fault may apply). */
  committed?: boolean;
}

export interface WriteContext {
  client: SimulatorClient;
  /** `Type/id` of resources created or updated by the same transaction (references to them are valid). */
  pendingRefs?: ReadonlySet<string>;
  /** Unique identifiers claimed by earlier entries of the same transaction: `Type|sys|value` → id. */
  claimed?: Map<string, string>;
}

interface SeedsFile {
  practitioners: SeedPractitioner[];
  patients: SeedPatient[];
}

export class SimulatorCore {
  readonly store = new FhirStore();
  readonly clients: SimulatorClient[];
  readonly seed: number;
  /** Fault decisions. A separate stream from ids, so a different request mix does not change the ids. */
  readonly faultRand: () => number;
  private readonly idRand: () => number;
  private readonly unknownNiks: Set<string>;
  readonly clock: () => number;
  private readonly now: () => Date;
  validator: PayloadValidator | undefined;
  readonly requireDiagnosis: boolean;

  constructor(opts: SimulatorOptions) {
    this.clients = opts.clients?.length ? opts.clients.map((c) => ({ ...c })) : [{ ...DEMO_CLIENT }];
    this.seed = opts.seed ?? (Date.now() & 0x7fffffff);
    this.faultRand = createPrng(this.seed);
    this.idRand = createPrng(this.seed ^ 0x5bd1e995);
    this.unknownNiks = new Set(opts.unknownNiks ?? []);
    this.clock = opts.clock ?? Date.now;
    this.now = opts.now ?? (() => new Date(this.clock()));
    this.validator = opts.validator || undefined;
    this.requireDiagnosis = opts.requireDiagnosis ?? true;
    if (opts.sandboxSeeds !== false) {
      const seeds = JSON.parse(readFileSync(path.join(mappingsDir, 'simulator', 'sandbox-seeds.json'), 'utf8')) as SeedsFile;
      seeds.practitioners.forEach((p) => this.seedPractitioner(p));
      seeds.patients.forEach((p) => this.seedPatient(p));
    }
    opts.practitioners?.forEach((p) => this.seedPractitioner(p));
    opts.patients?.forEach((p) => this.seedPatient(p));
    for (const c of this.clients) {
      if (!this.store.has('Organization', c.organizationId)) {
        this.commit('Organization', { resourceType: 'Organization', id: c.organizationId, active: true, name: `Simulator organization ${c.organizationId}` }, c.organizationId);
      }
    }
  }

  isoNow(): string {
    return new Date(this.clock()).toISOString().replace('Z', '+00:00');
  }

  newUuid(): string {
    return uuidFrom(this.idRand);
  }

  newPatientId(): string {
    for (;;) {
      const id = `P${digitsFrom(this.idRand, 11)}`;
      if (!this.store.has('Patient', id)) return id;
    }
  }

  isUnknownNik(nik: string): boolean {
    return this.unknownNiks.has(nik);
  }

  /** Stores `resource` (id set) as the next version; returns the stored copy. */
  commit(type: string, resource: Json, owner: string | undefined): Json {
    const old = this.store.get(type, String(resource.id));
    const version = (old?.version ?? 0) + 1;
    const stored: Json = { ...structuredClone(resource), meta: { ...(resource.meta ?? {}), versionId: String(version), lastUpdated: this.isoNow() } };
    this.store.put(type, stored, owner, version);
    return stored;
  }

  /** Issues for writing `resource` as `type` (id already decided): business rules, references, validator, duplicates. */
  checkWrite(type: string, resource: Json, ctx: WriteContext): PlatformIssue[] {
    const org = ctx.client.organizationId;
    const issues: PlatformIssue[] = [];
    if (type === 'Encounter') {
      (Array.isArray(resource.identifier) ? resource.identifier : []).forEach((idf: Json, i: number) => {
        if (typeof idf?.system === 'string' && idf.system.startsWith(SYS.encounterPrefix) && idf.system !== `${SYS.encounterPrefix}${org}`) {
          issues.push(ruleIssue('10117', {}, `Encounter.identifier[${i}].system`));
        }
      });
      const sp = resource.serviceProvider?.reference;
      if (typeof sp === 'string' && parseRelative(sp) && sp !== `Organization/${org}`) {
        issues.push(ruleIssue('10117', {}, 'Encounter.serviceProvider'));
      }
      if (this.requireDiagnosis && resource.status === 'finished' && !(Array.isArray(resource.diagnosis) && resource.diagnosis.length)) {
        issues.push(ruleIssue(DIAGNOSIS_RULE, {}, 'Encounter.diagnosis'));
      }
    }
    for (const ref of findReferences(resource)) {
      const rel = parseRelative(ref.reference);
      if (ref.reference.startsWith('urn:uuid:')) {
        issues.push(ruleIssue('20007', { type: 'Resource', id: ref.reference }, ref.path));
      } else if (rel && CHECKED_REFERENCE_TYPES.has(rel.type)) {
        const key = `${rel.type}/${rel.id}`;
        if (!ctx.pendingRefs?.has(key) && !this.store.has(rel.type, rel.id)) issues.push(ruleIssue('20007', { type: rel.type, id: rel.id }, ref.path));
      }
    }
    if (this.validator && VALIDATED_TYPES.has(type)) {
      const found = this.validator.validate(resource, { now: this.now(), organizationId: org });
      for (const i of found) {
        if ((i.severity !== 'error' && i.severity !== 'fatal') || i.rule === DIAGNOSIS_RULE) continue;
        const p = fromValidatorIssue(i);
        // The validator may also report 10117; keep one issue per rule and place.
        const dup = issues.some((x) => x.details.text === p.details.text && (x.expression ?? []).join() === (p.expression ?? []).join());
        if (!dup) issues.push(p);
      }
    }
    if (issues.length === 0 && TYPES[type]?.uniqueIdentifier) issues.push(...this.duplicateIssues(type, resource, ctx));
    return issues;
  }

  private duplicateIssues(type: string, resource: Json, ctx: WriteContext): PlatformIssue[] {
    const selfId = resource.id === undefined ? undefined : String(resource.id);
    for (const key of identifierKeys(resource)) {
      if (key.startsWith('*|') || key.endsWith('|*')) continue; // only exact system|value pairs must be unique
      for (const id of this.store.lookup(type, 'identifier', key)) {
        if (id !== selfId) return [{ ...ruleIssue('20002', { type }), code: 'duplicate' }];
      }
      const claimedBy = ctx.claimed?.get(`${type}|${key}`);
      if (claimedBy !== undefined && claimedBy !== selfId) return [{ ...ruleIssue('20002', { type }), code: 'duplicate' }];
    }
    return [];
  }

  /** Marks the unique identifiers of an accepted transaction entry as taken. */
  claimIdentifiers(type: string, resource: Json, claimed: Map<string, string>): void {
    if (!TYPES[type]?.uniqueIdentifier) return;
    for (const key of identifierKeys(resource)) {
      if (!key.startsWith('*|') && !key.endsWith('|*')) claimed.set(`${type}|${key}`, String(resource.id));
    }
  }

  /** Dukcapil-like check of a NIK: issues when implausible or unknown. */
  nikIssues(nik: unknown, expression: string): PlatformIssue[] {
    if (!parseNik(nik, messages.nik, new Date(this.clock()).getUTCFullYear())) {
      return [plainIssue('value', messages.dukcapil.nikInvalid.text, expression)];
    }
    if (this.unknownNiks.has(nik as string)) return [plainIssue('not-found', messages.dukcapil.nikNotFound.text, expression)];
    return [];
  }

  private seedPractitioner(p: SeedPractitioner): void {
    this.commit('Practitioner', {
      resourceType: 'Practitioner',
      id: p.id,
      active: true,
      identifier: [{ system: SYS.nakes, value: p.id }, { use: 'official', system: SYS.nik, value: p.nik }],
      name: [{ use: 'official', text: p.name ?? `Practitioner ${p.id}` }],
      ...(p.gender ? { gender: p.gender } : {}),
      ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    }, undefined);
  }

  private seedPatient(p: SeedPatient): void {
    const facts = p.nik ? parseNik(p.nik, messages.nik) : undefined;
    const identifier: Json[] = [{ use: 'official', system: SYS.ihs, value: p.id }];
    if (p.nik) identifier.push({ use: 'official', system: SYS.nik, value: p.nik });
    if (p.motherNik) identifier.push({ use: 'official', system: SYS.nikIbu, value: p.motherNik });
    this.commit('Patient', {
      resourceType: 'Patient',
      id: p.id,
      active: true,
      identifier,
      name: [{ use: 'official', text: p.name ?? `Patient ${p.id}` }],
      gender: p.gender ?? facts?.gender ?? 'unknown',
      birthDate: p.birthDate ?? facts?.birthDate,
      deceasedBoolean: false,
      multipleBirthInteger: p.multipleBirthInteger ?? 0,
    }, undefined);
  }
}

/** Patient as the platform returns it: NIK and mother's NIK masked. */
export function presentPatient(r: Json): Json {
  const out = structuredClone(r);
  for (const idf of Array.isArray(out.identifier) ? out.identifier : []) {
    if ((idf?.system === SYS.nik || idf?.system === SYS.nikIbu) && typeof idf.value === 'string') idf.value = '#'.repeat(idf.value.length || 16);
  }
  return out;
}
