// The SATUSEHAT client as the sync job sees it. One client per facility (one credential ↔ one Organization id).
import type { Bundle, OperationOutcome, Patient, Resource, Location } from 'fhir/r4.js';
import { AppError, type PlatformErrorKind } from '../util/app-error.js';

export type Environment = 'sandbox' | 'production' | 'simulator';

export interface FacilityLocation {
  name: string;
  /** http://terminology.hl7.org/CodeSystem/location-physical-type code: si, bu, ro, ... */
  physicalType: string;
}

/** One facility's validated configuration, secrets already resolved from the environment / secrets file. */
export interface FacilityConfig {
  organizationId: string;
  name?: string;
  environment: Environment;
  authBaseUrl: string; // e.g. https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1
  fhirBaseUrl: string; // e.g. https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1
  clientId: string;
  clientSecret: string;
  timezone: string; // IANA, e.g. Asia/Jakarta
  /** Requests per minute for this credential, shared by every call (token, searches, bundles). */
  quotaPerMinute: number;
  /** Facility's location codes (Posyandu / Pustu / room) → what to register on the platform. */
  locations: Record<string, FacilityLocation>;
}

/** Why a platform call failed, classified for the retry policy (one family of AppError's kinds). */
export type { PlatformErrorKind };

/**
 * A machine-readable refinement of `kind` for callers that must act on it (never parse the message text instead).
 * - search-truncated: a searchset reported more matches than it returned and offered no `next` link: the answer is incomplete.
 * - search-unfiltered: the searchset's self link shows the platform ignored a filter we sent, and it returned hits.
 * - token-forbidden: the token endpoint answered 403; the gateway also refuses callers outside Indonesia / on blocked networks.
 * - wrong-url: a 404 without a FHIR body: nothing answers FHIR at that path, so the configured base URL is wrong.
 * Both search reasons are 'transient' with outcome code 'incomplete': neither "found" nor "absent" may be concluded.
 */
export type PlatformErrorReason = 'search-truncated' | 'search-unfiltered' | 'token-forbidden' | 'wrong-url';

/** A failed platform call: AppError with a platform kind; `outcome` is the platform's (normalised: severity 'invalid' → 'error') or one we built for non-JSON bodies. */
export class PlatformError extends AppError {
  declare readonly kind: PlatformErrorKind;
  constructor(
    kind: PlatformErrorKind,
    status: number | undefined,
    outcome: OperationOutcome,
    /** Kamus Validasi rule numbers found in the outcome. */
    rules: readonly string[] = [],
    retryAfterMs?: number,
    public readonly reason?: PlatformErrorReason,
  ) {
    super(kind, `${kind}${status ? ` (HTTP ${status})` : ''}: ${outcome.issue?.[0]?.diagnostics ?? outcome.issue?.[0]?.details?.text ?? ''}`,
      { status, outcome, rules, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
}

export interface CreatedPatient {
  id: string;
  /** The platform already had this patient (duplicate answer carrying its id): nothing was created. */
  existed: boolean;
}

export interface PlatformClient {
  readonly organizationId: string;
  /** IHS number of the patient with this NIK, or undefined when the platform has none. */
  findPatientByNik(nik: string): Promise<string | undefined>;
  /** Patients registered under the mother's NIK (newborns); the caller matches birth order / birthDate. */
  findPatientsByMotherNik(motherNik: string): Promise<Patient[]>;
  /**
   * POST /Patient; the platform answers with a non-FHIR body. Returns the IHS number, `existed: true` when the platform
   * answered that the patient is already registered and named its id (HTTP 200, success:false, data.resourceID): adopt it.
   */
  createPatient(patient: Patient): Promise<CreatedPatient>;
  /** IHS number of the practitioner with this NIK (read-only master data). */
  findPractitionerByNik(nik: string): Promise<string | undefined>;
  /** Location id by identifier `{location system of the organization}|{code}` (mappings/systems.json), or undefined. */
  findLocation(code: string): Promise<string | undefined>;
  createLocation(location: Location): Promise<string>;
  /** POST a transaction Bundle; returns the transaction-response Bundle. */
  transaction(bundle: Bundle): Promise<Bundle>;
  /** GET {type}?{params}; follows `next` links. An incomplete or unfiltered answer throws (reason search-truncated / search-unfiltered). */
  search(resourceType: string, params: Record<string, string>): Promise<Resource[]>;
  /** GET {type}/{id}: the resource as the platform holds it (PlatformError kind 'not-found' when it has none). */
  read(resourceType: string, id: string): Promise<Resource>;
  /** PUT {type}/{id} with the id in the body. */
  update(resource: Resource & { id: string }): Promise<Resource>;
}
