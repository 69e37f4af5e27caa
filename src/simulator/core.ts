// The simulator's state and the write pipeline shared by single requests and transactions:
// business checks (10117, 10457, duplicates, references), the service validator, then commit with server ids and versions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { identifierSystem, identifierSystemPrefix } from '../util/systems.js';
import { FhirStore } from './fhir-store.js';
import { parseNik } from './nik.js';
import { DEMO_CLIENT, type PayloadValidator, type SeedLocation, type SeedPatient, type SeedPractitioner, type SimulatorClient, type SimulatorOptions } from './options.js';
import { SimHttpError, googleIssue, messages, plainIssue, ruleIssue, fromValidatorIssue, type PlatformIssue } from './platform-outcome.js';
import { createPrng, digitsFrom, uuidFrom } from './prng.js';
import type { FaultStream } from './faults.js';
import { findReferences, parseRelative, type FoundReference } from './references.js';
import { CHECKED_REFERENCE_TYPES, typeSpec, identifierKeys, type Json } from './resource-types.js';

/** The platform's identifier systems, from mappings/systems.json like the service's. */
export const SYS = {
  nik: identifierSystem('patientNik'),
  nikIbu: identifierSystem('patientNikIbu'),
  ihs: identifierSystem('patientIhs'),
  nakes: identifierSystem('practitionerIhs'),
  encounterPrefix: identifierSystemPrefix('encounter'),
  locationPrefix: identifierSystemPrefix('location'),
} as const;

/** Resource types the service validator has profiles for; others (Location, Organization) get business checks only. */
const VALIDATED_TYPES = new Set(['Patient', 'Encounter', 'Observation', 'Immunization', 'Condition']);


/** The resolved recorded-or-documented choices (SimulatorOptions, defaults applied). */
export interface Behaviour {
  patientCreateBody: 'recorded' | 'documented';
  errorStyle: 'recorded' | 'documented';
  strictSearch: boolean;
  patientSearchView: 'ids-only' | 'masked' | 'full';
  requireDiagnosis: boolean;
}

/** A commit's version: an opaque base64 of a nanosecond timestamp, and lastUpdated with microseconds (as recorded). */
export interface VersionStamp {
  versionId: string;
  lastUpdated: string;
}

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

// The transaction stream keeps the old single stream's seed, so runs that mostly send transactions keep their faults.
const FAULT_STREAM_SALT: Record<FaultStream, number> = { transaction: 0, read: 0x1b873593, write: 0x2c1b3c6d, token: 0x6a09e667 };

export class SimulatorCore {
  readonly store = new FhirStore();
  readonly clients: SimulatorClient[];
  readonly seed: number;
  /** Fault decisions, one stream per kind of request; separate from ids, so a different request mix does not change the ids. */
  readonly faultStream: (kind: FaultStream) => () => number;
  private readonly idRand: () => number;
  private readonly unknownNiks: Set<string>;
  readonly clock: () => number;
  private readonly now: () => Date;
  validator: PayloadValidator | undefined;
  readonly behaviour: Behaviour;
  private lastStampNs = 0n;

  constructor(opts: SimulatorOptions) {
    this.behaviour = {
      patientCreateBody: opts.patientCreateBody ?? 'recorded',
      errorStyle: opts.errorStyle ?? 'recorded',
      strictSearch: opts.strictSearch ?? false,
      patientSearchView: opts.patientSearchView ?? 'ids-only',
      requireDiagnosis: opts.requireDiagnosis ?? true,
    };
    this.clients = opts.clients?.length ? opts.clients.map((c) => ({ ...c })) : [{ ...DEMO_CLIENT }];
    this.seed = opts.seed ?? (Date.now() & 0x7fffffff);
    this.faultStream = (kind) => createPrng(this.seed ^ FAULT_STREAM_SALT[kind]);
    this.idRand = createPrng(this.seed ^ 0x5bd1e995);
    this.unknownNiks = new Set(opts.unknownNiks ?? []);
    this.clock = opts.clock ?? Date.now;
    this.now = opts.now ?? (() => new Date(this.clock()));
    this.validator = opts.validator || undefined;
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
    opts.locations?.forEach((l) => this.seedLocation(l));
  }

  get recordedErrors(): boolean {
    return this.behaviour.errorStyle === 'recorded';
  }

  /** A new version stamp, strictly later than the previous one (1 µs apart at least, so ids never repeat). */
  newStamp(): VersionStamp {
    let ns = BigInt(this.clock()) * 1_000_000n;
    if (ns <= this.lastStampNs) ns = this.lastStampNs + 1000n;
    this.lastStampNs = ns;
    const ms = Number(ns / 1_000_000n);
    const micros = String((ns / 1000n) % 1_000_000n).padStart(6, '0');
    return {
      versionId: Buffer.from(ns.toString()).toString('base64').replace(/=+$/, ''),
      lastUpdated: `${new Date(ms).toISOString().slice(0, 19)}.${micros}+00:00`,
    };
  }

  /** Read of an id that does not exist: Google's storage_error as recorded, or rule 20007. */
  notFound(type: string, id: string): SimHttpError {
    if (this.recordedErrors) return new SimHttpError(404, [googleIssue('no-store', 'storage_error', `resource not found: ${type}/${id}`)]);
    return new SimHttpError(404, [ruleIssue('20007', { type, id })]);
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

  /** Stores `resource` (id set) as the next version; returns the stored copy. A transaction passes one stamp for all entries. */
  commit(type: string, resource: Json, owner: string | undefined, stamp: VersionStamp = this.newStamp()): Json {
    const old = this.store.get(type, String(resource.id));
    const version = (old?.version ?? 0) + 1;
    const stored: Json = { ...structuredClone(resource), meta: { ...(resource.meta ?? {}), versionId: stamp.versionId, lastUpdated: stamp.lastUpdated } };
    this.store.put(type, stored, owner, version);
    return stored;
  }

  /**
   * Issues for writing `resource` as `type` (id already decided), in the platform's order: the kemkes gateway's business
   * rules and validator first, then duplicates, then the FHIR store's own reference check.
   */
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
      // Recorded body has no expression (error-400-rule-10457-encounter-needs-diagnosis-staging.json).
      const hasDiagnosis = Array.isArray(resource.diagnosis) && resource.diagnosis.length > 0;
      if (this.behaviour.requireDiagnosis && resource.status === 'finished' && !hasDiagnosis) issues.push(ruleIssue('10457'));
    }
    const missing: FoundReference[] = [];
    for (const ref of findReferences(resource)) {
      const rel = parseRelative(ref.reference);
      if (ref.reference.startsWith('urn:uuid:')) {
        issues.push(ruleIssue('20007', { type: 'Resource', id: ref.reference }, ref.path));
      } else if (rel && CHECKED_REFERENCE_TYPES.has(rel.type)) {
        if (!ctx.pendingRefs?.has(`${rel.type}/${rel.id}`) && !this.store.has(rel.type, rel.id)) missing.push(ref);
      }
    }
    if (!this.recordedErrors) {
      for (const ref of missing) {
        const rel = parseRelative(ref.reference)!;
        issues.push(ruleIssue('20007', { type: rel.type, id: rel.id }, ref.path));
      }
    }
    if (this.validator && VALIDATED_TYPES.has(type)) {
      const found = this.validator.validate(resource, { now: this.now(), organizationId: org });
      for (const i of found) {
        if (i.severity !== 'error' && i.severity !== 'fatal') continue;
        // 10457 is decided above (requireDiagnosis), so turning the option off also silences the validator's copy.
        if (i.rule === '10457') continue;
        const p = fromValidatorIssue(i);
        // The validator may also report 10117; keep one issue per rule and place.
        const dup = issues.some((x) => x.details.text === p.details.text && (x.expression ?? []).join() === (p.expression ?? []).join());
        if (!dup) issues.push(p);
      }
    }
    if (issues.length === 0 && typeSpec(type)?.uniqueIdentifier) issues.push(...this.duplicateIssues(type, resource, ctx));
    if (issues.length === 0 && missing.length) {
      // Google's FHIR store names every missing target in one issue (error-400-reference-not-found.json).
      const targets = [...new Set(missing.map((m) => m.reference))].join(', ');
      issues.push(googleIssue('value', 'reference_not_found', `reference target(s) not found: ${targets}`));
    }
    return issues;
  }

  /** The platform's duplicate issue: production 2024 carries no rule number (error-400-duplicate-location.json). */
  duplicateIssue(type: string): PlatformIssue {
    if (this.recordedErrors) return plainIssue('duplicate', `Found duplicate: ${type}`);
    return { ...ruleIssue('20002', { type }), code: 'duplicate' };
  }

  private duplicateIssues(type: string, resource: Json, ctx: WriteContext): PlatformIssue[] {
    const selfId = resource.id === undefined ? undefined : String(resource.id);
    for (const key of identifierKeys(resource)) {
      if (key.startsWith('*|') || key.endsWith('|*')) continue; // only exact system|value pairs must be unique
      for (const id of this.store.lookup(type, 'identifier', key)) {
        if (id !== selfId) return [this.duplicateIssue(type)];
      }
      const claimedBy = ctx.claimed?.get(`${type}|${key}`);
      if (claimedBy !== undefined && claimedBy !== selfId) return [this.duplicateIssue(type)];
    }
    return [];
  }

  /** Marks the unique identifiers of an accepted transaction entry as taken. */
  claimIdentifiers(type: string, resource: Json, claimed: Map<string, string>): void {
    if (!typeSpec(type)?.uniqueIdentifier) return;
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

  private seedLocation(l: SeedLocation): void {
    this.commit('Location', {
      resourceType: 'Location',
      id: this.newUuid(),
      identifier: [{ system: `${SYS.locationPrefix}${l.organizationId}`, value: l.code }],
      status: 'active',
      name: l.name ?? `Location ${l.code}`,
      mode: 'instance',
      managingOrganization: { reference: `Organization/${l.organizationId}` },
    }, l.organizationId);
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

/**
 * Patient as the platform returns it. The NIK is always masked; the mother's NIK is not (patient-search-nik-ibu-staging-12-hits.json).
 * 'ids-only' keeps id, identifier and meta (staging Sep 2026); 'masked' masks each name word (`Sa** An**`, staging Jan 2025).
 */
export function presentPatient(r: Json, view: Behaviour['patientSearchView'] = 'full'): Json {
  const out = structuredClone(r);
  for (const idf of Array.isArray(out.identifier) ? out.identifier : []) {
    if (idf?.system === SYS.nik && typeof idf.value === 'string') idf.value = '#'.repeat(16);
  }
  if (view === 'ids-only') return { id: out.id, identifier: out.identifier, meta: out.meta, resourceType: 'Patient' };
  if (view === 'masked') {
    for (const n of Array.isArray(out.name) ? out.name : []) {
      if (typeof n?.text === 'string') n.text = n.text.split(/\s+/).filter(Boolean).map((w: string) => `${w.slice(0, 2)}**`).join(' ');
      delete n?.given;
      delete n?.family;
    }
  }
  return out;
}
