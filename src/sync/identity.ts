// Identity resolution before clinical data: which SATUSEHAT ids the visit's Patient, Practitioner and Location have.
// Order: given id → identity cache (HMAC key, never the NIK) → platform search → create (Patient, Location only).
// What the platform cannot resolve becomes BlockedError with a PII-free reason, never a retry loop.
// Concurrent resolutions of the same key share one flight, so two visits of a new patient never create it twice; across
// instances a lookup that may create (Patient, Location) runs under the store lease `identity:<kind>:<org>:<key HMAC>`
// (never a NIK), and an instance that finds the lease taken waits for the holder's result instead of creating too.
import { randomUUID } from 'node:crypto';
import type { Location, Patient } from 'fhir/r4.js';
import type { FacilityConfig, PlatformClient } from '../platform/types.js';
import { PlatformError } from '../platform/types.js';
import type { IdentityEntry, Store } from '../store/types.js';
import { toOperationOutcome } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import { PHYSICAL_TYPES, PHYSICAL_TYPE_SYSTEM } from '../config/facilities.js';
import { locationSystem } from '../platform/client.js';
import type { ResolvedIds, VisitRecordLike } from './contracts.js';
import { hmacHex } from './hash.js';
import { ownEntry } from '../util/own.js';
import { BlockedError } from './policy.js';
import { scrubOutcome } from './scrub.js';


export interface IdentityDeps {
  store: Store;
  hmacKey: Buffer;
  now: () => number;
  /** How often an instance waiting for another's registration looks again (default 250 ms). */
  leaseRecheckMs?: number;
}

/** A registration lease: renewed while its holder works (quota waits included), expired soon after a holder dies. */
const IDENTITY_LEASE_MS = 30_000;
/** How long an instance waits for another's registration before the visit is retried later instead. */
const IDENTITY_WAIT_MS = 120_000;

export interface ResolveInput {
  record: VisitRecordLike;
  client: PlatformClient;
  facility: FacilityConfig;
  /** The Patient resource to create when the platform has none (from mapVisit without resolved ids). */
  patientToCreate: () => Patient | undefined;
}

/** A visit blocked on an identity, said by message sync.<key> (kept with the stored outcome, said in the reader's language). */
function blocked(key: string, params: Params, expression: string, detail?: PlatformError): BlockedError {
  const issues = [messageIssue('error', 'not-found', `sync.${key}`, params, expression)];
  const outcome = toOperationOutcome(issues, undefined, true);
  if (detail) outcome.issue.push(...(scrubOutcome(detail.outcome).issue ?? []).map((i) => ({ ...i, severity: 'information' as const })));
  return new BlockedError(outcome);
}

export class IdentityResolver {
  private readonly inflight = new Map<string, Promise<string>>();
  /** This resolver's name as a lease holder. */
  private readonly holder = randomUUID();

  constructor(private readonly deps: IdentityDeps) {}

  /** Resolves all three ids for one visit (Patient, Practitioner, Location). Throws BlockedError or PlatformError. */
  async resolve(input: ResolveInput): Promise<Required<ResolvedIds>> {
    const [patient, practitioner, location] = await Promise.all([
      this.patient(input),
      this.practitioner(input),
      this.location(input),
    ]);
    return { patient, practitioner, location };
  }

  private keyHash(text: string): string {
    return hmacHex(this.deps.hmacKey, text);
  }

  /**
   * Cache → `find` → `create` under one flight per (kind, org, key). The cache is read inside the flight: a caller
   * arriving while the lookup is awaited joins it instead of missing the cache and creating a second time.
   */
  private once(kind: IdentityEntry['kind'], org: string, keyHash: string, find: () => Promise<string>, mayCreate = false): Promise<string> {
    const flightKey = `${kind}|${org}|${keyHash}`;
    const running = this.inflight.get(flightKey);
    if (running) return running;
    const { store } = this.deps;
    const lookup = async () => (await store.getIdentity(kind, org, keyHash))?.satusehatId;
    const resolve = async () => {
      const id = await find();
      await store.putIdentity({ kind, organizationId: org, keyHash, satusehatId: id, updatedAt: this.deps.now() });
      return id;
    };
    const p = (async () => {
      const cached = await lookup();
      if (cached) return cached;
      return mayCreate ? this.exclusively(`identity:${kind}:${org}:${keyHash}`, lookup, resolve) : resolve();
    })().finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, p);
    return p;
  }

  /**
   * `work` under the lease `name`, looked up once more after taking it (the previous holder stores before it releases).
   * Someone else's lease: wait for its result (`lookup`), or take the lease over once it is released or has expired.
   */
  private async exclusively(name: string, lookup: () => Promise<string | undefined>, work: () => Promise<string>): Promise<string> {
    const { store, now } = this.deps;
    const recheckMs = this.deps.leaseRecheckMs ?? 250;
    const giveUpAt = Date.now() + IDENTITY_WAIT_MS;
    for (;;) {
      if (await store.tryLease(name, this.holder, IDENTITY_LEASE_MS, now())) {
        const renew = setInterval(() => {
          store.tryLease(name, this.holder, IDENTITY_LEASE_MS, now()).catch(() => undefined);
        }, IDENTITY_LEASE_MS / 3);
        renew.unref();
        try {
          return (await lookup()) ?? (await work());
        } finally {
          clearInterval(renew);
          await store.releaseLease(name, this.holder).catch(() => undefined); // else it expires by itself
        }
      }
      const done = await lookup();
      if (done) return done;
      if (Date.now() >= giveUpAt) {
        throw new PlatformError('transient', undefined, toOperationOutcome([messageIssue('error', 'transient', 'sync.identity.registration-busy', {})], undefined, true));
      }
      await new Promise((r) => setTimeout(r, recheckMs));
    }
  }

  private patient({ record, client, facility, patientToCreate }: ResolveInput): Promise<string> {
    const p = record.patient ?? {};
    if (p.ihsNumber) return Promise.resolve(p.ihsNumber);
    const org = facility.organizationId;
    if (p.nik) {
      const nik = p.nik;
      return this.once('patient', org, this.keyHash(`patient|nik|${nik}`), async () => {
        // One NIK is one patient: a search by it is exact, and costs less than a create refused as a duplicate.
        const find = () => client.findPatientByNik(nik);
        const found = await find();
        if (found) return found;
        return this.createPatient(client, patientToCreate, 'patient.nik',
          'patient.nik-not-created',
          find);
      }, true);
    }
    if (p.motherNik && p.birthOrder !== undefined) {
      const { motherNik, birthOrder, birthDate } = p;
      // Create first: a search by the mother's NIK returns all her children, on staging with nothing but ids, so it
      // cannot tell this infant from a sibling. The platform deduplicates newborns itself and names the existing
      // patient when it answers that this one is already registered.
      return this.once('patient', org, this.keyHash(`patient|mother|${motherNik}|${birthOrder}|${birthDate ?? ''}`), () =>
        this.createPatient(client, patientToCreate, 'patient.motherNik',
          'patient.infant-not-created',
          async () => {
            const id = infantAmong(await client.findPatientsByMotherNik(motherNik), birthOrder, birthDate);
            if (id) return id;
            throw blocked('patient.infant-ambiguous', {}, 'patient.motherNik');
          }), true);
    }
    return Promise.reject(
      blocked('patient.no-identity', {}, 'patient'),
    );
  }

  /**
   * POST Patient. "Already registered" answered with the existing id (the recorded platform) is that patient; answered
   * without one (the documented 20002) `afterDuplicate` finds it, or the visit retries later — never a second create.
   */
  private async createPatient(
    client: PlatformClient, build: () => Patient | undefined, field: string, /** message key (sync.*) of the refusal */ why: string, afterDuplicate: () => Promise<string | undefined>,
  ): Promise<string> {
    const resource = build();
    if (!resource) throw blocked('patient.not-buildable', { '@why': `sync.${why}` }, field);
    try {
      return (await client.createPatient(resource)).id;
    } catch (e) {
      if (e instanceof PlatformError && e.kind === 'duplicate') {
        // The patient exists (created meanwhile by another facility, another system, or a create whose response was
        // lost). Adopt it; if the search does not show it yet, retry later — never block the visit.
        const existing = await afterDuplicate();
        if (existing) return existing;
        throw new PlatformError('transient', e.status, toOperationOutcome([
          messageIssue('error', 'transient', 'sync.patient.duplicate-not-found', {}, field),
        ], undefined, true), e.rules);
      }
      // Dukcapil does not know the NIK (validation/not-found): no retry can fix that, a human must.
      if (e instanceof PlatformError && (e.kind === 'validation' || e.kind === 'not-found')) throw blocked(why, {}, field, e);
      throw e;
    }
  }

  private practitioner({ record, client, facility }: ResolveInput): Promise<string> {
    const pr = record.practitioner ?? {};
    if (pr.ihsNumber) return Promise.resolve(pr.ihsNumber);
    if (!pr.nik) return Promise.reject(blocked('practitioner.no-identity', {}, 'practitioner'));
    const nik = pr.nik;
    return this.once('practitioner', facility.organizationId, this.keyHash(`practitioner|nik|${nik}`), async () => {
      const found = await client.findPractitionerByNik(nik);
      if (found) return found;
      throw blocked('practitioner.not-found', {}, 'practitioner.nik');
    });
  }

  private location({ record, client, facility }: ResolveInput): Promise<string> {
    const code = record.locationCode;
    const org = facility.organizationId;
    if (!code) return Promise.reject(blocked('location.missing', {}, 'locationCode'));
    const loc = ownEntry(facility.locations, code);
    if (!loc) {
      return Promise.reject(
        blocked('location.unconfigured', { code, org }, 'locationCode'),
      );
    }
    return this.once('location', org, this.keyHash(`location|${code}`), async () => {
      const found = await client.findLocation(code);
      if (found) return found;
      return client.createLocation(buildLocation(org, code, loc.name, loc.physicalType));
    }, true);
  }
}

/**
 * The one child of the mother's children that is this infant, or undefined when they cannot be told apart: every
 * candidate must show its birth order and birth date (staging returns ids only), and exactly one may match. Never a guess.
 */
export function infantAmong(candidates: Patient[], birthOrder: number, birthDate: string | undefined): string | undefined {
  if (!birthDate || candidates.some((c) => c.multipleBirthInteger === undefined || !c.birthDate)) return undefined;
  const matches = candidates.filter((c) => c.id && c.multipleBirthInteger === birthOrder && c.birthDate === birthDate);
  return matches.length === 1 ? matches[0]!.id : undefined;
}

/** The Location registered once per configured code (satusehat-platform.md §1.5, §2.6). */
export function buildLocation(org: string, code: string, name: string, physicalType: string): Location {
  return {
    resourceType: 'Location',
    identifier: [{ system: locationSystem(org), value: code }],
    status: 'active',
    name,
    mode: 'instance',
    physicalType: {
      coding: [{ system: PHYSICAL_TYPE_SYSTEM, code: physicalType, display: ownEntry(PHYSICAL_TYPES, physicalType) ?? physicalType }],
    },
    managingOrganization: { reference: `Organization/${org}` },
  };
}
