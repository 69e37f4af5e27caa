// Simulator options and their defaults (the documented demo client lives here).
import type { Issue } from '../validation/outcome.js';

export interface SimulatorClient {
  clientId: string;
  clientSecret: string;
  organizationId: string;
}

/** The service validator's contract (src/validation/index.ts `createValidator()`), so a test can also pass its own. */
export interface PayloadValidator {
  validate(payload: unknown, ctx: { now: Date; organizationId?: string }): Issue[];
}

export interface SeedPatient {
  id: string;
  nik?: string;
  /** Newborns registered under the mother's NIK. */
  motherNik?: string;
  multipleBirthInteger?: number;
  name?: string;
  gender?: 'male' | 'female';
  birthDate?: string;
}

export interface SeedPractitioner {
  id: string;
  nik: string;
  name?: string;
  gender?: 'male' | 'female';
  birthDate?: string;
}

/** A Location the platform already holds for an organization (identifier system: the `location` entry of mappings/systems.json). */
export interface SeedLocation {
  organizationId: string;
  code: string;
  name?: string;
}

export interface SimulatorOptions {
  /** Default: one demo client (DEMO_CLIENT). */
  clients?: SimulatorClient[];
  /** Requests per minute per client, token calls included (sliding 60 s window). Default 150. 0 = unlimited. */
  quotaPerMinute?: number;
  /** Extra latency per FHIR request: fixed ms or a uniform range. */
  latencyMs?: number | { min: number; max: number };
  /** Share of FHIR requests answered with 500/502/503/504 before anything is done (502–504 with text/plain bodies). */
  errorRate5xx?: number;
  /**
   * Share of FHIR requests answered 429 with `Retry-After: 1` before anything is done, whatever the quota says (the
   * platform's gateway throttles bursts too). They count against the quota, as the request reached the platform.
   */
  throttleRate?: number;
  /** Share of FHIR requests that hang (nothing done) until `timeoutHangMs`, then 504 "Gateway Timeout" — or until close(). */
  timeoutRate?: number;
  /** How long a "timeout" request hangs. Default 60 000 ms. */
  timeoutHangMs?: number;
  /** Share of successful FHIR writes that are committed and then answered by destroying the socket (client sees a network error). */
  dropAfterCommitRate?: number;
  /** Which FHIR requests faults apply to. Default 'all'. */
  faultScope?: 'all' | 'reads' | 'writes';
  /** Apply latency / 5xx / timeouts to the token endpoint too. Default false. */
  faultsOnToken?: boolean;
  /** Token lifetime in seconds, sent as expires_in. Default 14399, as recorded in production (token-success-production.json; the docs say 3599). */
  tokenExpiryS?: number;
  /**
   * POST /Patient answer. 'recorded' (default, patient-create-newborn-200-*-postman.json): HTTP 200 with
   * `data["Patient ID:"]`, and a duplicate as HTTP 200 `success:false` naming the existing id in `data.resourceID`.
   * 'documented': the SDKs' `data.patient_id` (newborns under `create_patient`), 201, and 400 rule 20002 on a duplicate.
   */
  patientCreateBody?: 'recorded' | 'documented';
  /**
   * Error bodies. 'recorded' (default): Google Healthcare style where the platform was recorded answering so
   * (404 storage_error, reference_not_found, unparseable_resource, invalid_query), duplicates without a rule number
   * (`Found duplicate: Location`), the padded Apigee 401. 'documented': kemkes style with rule numbers everywhere.
   */
  errorStyle?: 'recorded' | 'documented';
  /** Unsupported search parameters: false (default, as recorded) drops them silently; true answers 400 invalid_query. */
  strictSearch?: boolean;
  /**
   * What a Patient search returns per hit. 'ids-only' (default, staging Sep 2026): id, identifier (NIK masked), meta.
   * 'masked': the record with each name word masked (`Sa** An**`, staging Jan 2025). 'full': the record, NIK masked.
   */
  patientSearchView?: 'ids-only' | 'masked' | 'full';
  /** Refuse a finished Encounter without diagnosis (rule 10457, as recorded on staging Sep 2026). Default true. */
  requireDiagnosis?: boolean;
  /** Seed of the PRNG behind fault decisions and generated ids. Default: derived from the clock (reported in state.seed). */
  seed?: number;
  /** NIKs Dukcapil does not know: patient create (and mother's NIK for newborns) fails with 400. */
  unknownNiks?: Iterable<string>;
  /** Seed the SATUSEHAT sandbox's dummy practitioners/patients (mappings/simulator/sandbox-seeds.json). Default true. */
  sandboxSeeds?: boolean;
  patients?: SeedPatient[];
  practitioners?: SeedPractitioner[];
  /** Locations registered before the run (e.g. so several service instances do not all register one at the start). */
  locations?: SeedLocation[];
  /** Time used by validation (future / too-old datetimes). Default: the wall clock. */
  now?: () => Date;
  /** Clock (epoch ms) for token expiry, auth lockout and quota windows; tests pass a fake one. Default Date.now. */
  clock?: () => number;
  /** Server-side profile validation. Default: the service's own validator (`createValidator()`); `false` disables it. */
  validator?: PayloadValidator | false;
  /** Request log entries kept (ring buffer). Default 10 000. */
  requestLogSize?: number;
}

/** Documented demo credentials, used when no clients are configured. Organization 10000004 is the docs' placeholder org. */
export const DEMO_CLIENT: SimulatorClient = Object.freeze({
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  organizationId: '10000004',
});

export const DEFAULT_QUOTA_PER_MINUTE = 150;
export const DEFAULT_TOKEN_EXPIRY_S = 14399;
export const DEFAULT_TIMEOUT_HANG_MS = 60_000;

/** Throws a clear Error for an option that cannot work (used by the CLI and by createSimulator). */
export function checkOptions(o: SimulatorOptions): void {
  const rate = (name: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) throw new Error(`${name} must be a number between 0 and 1 (got ${String(v)})`);
  };
  rate('errorRate5xx', o.errorRate5xx);
  rate('timeoutRate', o.timeoutRate);
  rate('throttleRate', o.throttleRate);
  rate('dropAfterCommitRate', o.dropAfterCommitRate);
  const nonNeg = (name: string, v: number | undefined, integer = false) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && (!integer || Number.isInteger(v)))) {
      throw new Error(`${name} must be a ${integer ? 'whole ' : ''}number ≥ 0 (got ${String(v)})`);
    }
  };
  nonNeg('quotaPerMinute', o.quotaPerMinute, true);
  nonNeg('timeoutHangMs', o.timeoutHangMs);
  if (o.tokenExpiryS !== undefined && !(Number.isInteger(o.tokenExpiryS) && o.tokenExpiryS >= 1)) {
    throw new Error(`tokenExpiryS must be a whole number ≥ 1 (got ${String(o.tokenExpiryS)})`);
  }
  const oneOf = (name: string, v: unknown, allowed: readonly string[]) => {
    if (v !== undefined && !allowed.includes(v as string)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got ${String(v)})`);
  };
  oneOf('patientCreateBody', o.patientCreateBody, ['recorded', 'documented']);
  oneOf('errorStyle', o.errorStyle, ['recorded', 'documented']);
  oneOf('patientSearchView', o.patientSearchView, ['ids-only', 'masked', 'full']);
  for (const k of ['strictSearch', 'requireDiagnosis'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new Error(`${k} must be true or false (got ${String(o[k])})`);
  }
  if (typeof o.latencyMs === 'number') nonNeg('latencyMs', o.latencyMs);
  else if (o.latencyMs) {
    nonNeg('latencyMs.min', o.latencyMs.min);
    nonNeg('latencyMs.max', o.latencyMs.max);
    if (o.latencyMs.max < o.latencyMs.min) throw new Error('latencyMs: max must be ≥ min');
  }
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new Error(`seed must be an integer (got ${String(o.seed)})`);
  if (o.clients) {
    if (!Array.isArray(o.clients) || o.clients.length === 0) throw new Error('clients must be a non-empty array');
    const seen = new Set<string>();
    o.clients.forEach((c, i) => {
      for (const k of ['clientId', 'clientSecret', 'organizationId'] as const) {
        if (!c || typeof c[k] !== 'string' || !c[k]) throw new Error(`clients[${i}].${k} must be a non-empty string`);
      }
      if (seen.has(c.clientId)) throw new Error(`clients[${i}].clientId is a duplicate`);
      seen.add(c.clientId);
    });
  }
}
