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

export interface SimulatorOptions {
  /** Default: one demo client (DEMO_CLIENT). */
  clients?: SimulatorClient[];
  /** Requests per minute per client, token calls included (sliding 60 s window). Default 150. 0 = unlimited. */
  quotaPerMinute?: number;
  /** Extra latency per FHIR request: fixed ms or a uniform range. */
  latencyMs?: number | { min: number; max: number };
  /** Share of FHIR requests answered with 500/502/503/504 before anything is done (502–504 with text/plain bodies). */
  errorRate5xx?: number;
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
  /** Token lifetime in seconds, sent as expires_in. Default 3599. */
  tokenExpiryS?: number;
  /** Seed of the PRNG behind fault decisions and generated ids. Default: derived from the clock (reported in state.seed). */
  seed?: number;
  /** NIKs Dukcapil does not know: patient create (and mother's NIK for newborns) fails with 400. */
  unknownNiks?: Iterable<string>;
  /** Seed the SATUSEHAT sandbox's dummy practitioners/patients (mappings/simulator/sandbox-seeds.json). Default true. */
  sandboxSeeds?: boolean;
  patients?: SeedPatient[];
  practitioners?: SeedPractitioner[];
  /** Time used by validation (future / too-old datetimes). Default: the wall clock. */
  now?: () => Date;
  /** Clock (epoch ms) for token expiry, auth lockout and quota windows; tests pass a fake one. Default Date.now. */
  clock?: () => number;
  /** Refuse a finished Encounter without diagnosis (RuleNumber 10457), as staging did in Sep 2026. Default true; false accepts it
   *  (the documented rules list no such requirement). */
  requireDiagnosis?: boolean;
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
export const DEFAULT_TOKEN_EXPIRY_S = 3599;
export const DEFAULT_TIMEOUT_HANG_MS = 60_000;

/** Throws a clear Error for an option that cannot work (used by the CLI and by createSimulator). */
export function checkOptions(o: SimulatorOptions): void {
  const rate = (name: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) throw new Error(`${name} must be a number between 0 and 1 (got ${String(v)})`);
  };
  rate('errorRate5xx', o.errorRate5xx);
  rate('timeoutRate', o.timeoutRate);
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
