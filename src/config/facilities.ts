// The facilities file: which Puskesmas this service delivers for, against which SATUSEHAT environment, with which
// locations, and where each one's secret comes from. Secrets never live in this file (it is meant to be committed).
import fs from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { emptyTable, hasEntry, ownEntry } from '../util/own.js';
import { stringProblem } from '../util/strict-strings.js';
import type { Environment, FacilityConfig, FacilityLocation } from '../platform/types.js';
import { ConfigError } from './errors.js';
import { ENVIRONMENTS, ENVIRONMENT_URLS, simulatorUrls } from './environments.js';

export const DEFAULT_TIMEZONE = 'Asia/Jakarta';
export const DEFAULT_QUOTA_PER_MINUTE = 150;

/** http://terminology.hl7.org/CodeSystem/location-physical-type: code → display, from mappings/ (read once, at start-up). */
const physicalTypeTable = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'location-physical-types.json'), 'utf8')) as {
  system: string;
  codes: Record<string, string>;
};
export const PHYSICAL_TYPE_SYSTEM = physicalTypeTable.system;
export const PHYSICAL_TYPES: Readonly<Record<string, string>> = physicalTypeTable.codes;

const FACILITY_KEYS = new Set([
  'organizationId',
  'name',
  'environment',
  'timezone',
  'quotaPerMinute',
  'locations',
  'credentials',
  'simulatorUrl',
]);
const CREDENTIAL_KEYS = new Set(['clientIdEnv', 'clientSecretEnv']);
const LOCATION_KEYS = new Set(['name', 'physicalType']);
const SECRET_LOOKING = /secret|password|token|clientid$/i;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ORG_ID = /^[A-Za-z0-9-]{1,64}$/;
const LOCATION_CODE = /^[A-Za-z0-9._-]{1,64}$/;

/** What a facility entry says before its secrets are resolved. */
export interface FacilityEntry {
  organizationId: string;
  name?: string;
  environment: Environment;
  timezone: string;
  quotaPerMinute: number;
  locations: Record<string, FacilityLocation>;
  credentials?: { clientIdEnv: string; clientSecretEnv: string };
  /** Only (and required) for environment `simulator`: origin of a simulator run elsewhere, or BUNDLED_SIMULATOR. */
  simulatorUrl?: string;
}

/** `simulatorUrl` value that asks for the simulator bundled in this process (said explicitly, never assumed). */
export const BUNDLED_SIMULATOR = 'bundled';

/** The platform's path prefixes: a simulatorUrl that ends in one of them named the base URL instead of the origin. */
const PLATFORM_PATHS = ['/fhir-r4/v1', '/oauth2/v1'];

/**
 * `simulatorUrl` → the simulator's origin. A URL ending in `/fhir-r4/v1` or `/oauth2/v1` (the FHIR or auth base, a common
 * copy-paste) is accepted as its origin, since the simulator serves both under one origin; any other path is a mistake.
 */
export function parseSimulatorUrl(value: unknown): { origin: string } | { problem: string } {
  if (value === BUNDLED_SIMULATOR) return { origin: BUNDLED_SIMULATOR };
  const shape = `must be "${BUNDLED_SIMULATOR}" or an http(s) origin such as http://127.0.0.1:9090`;
  if (typeof value !== 'string') return { problem: shape };
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { problem: shape };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: shape };
  if (url.search || url.hash || url.username || url.password) return { problem: `${shape} (no query, fragment or user info)` };
  const path = url.pathname.replace(/\/+$/, '');
  if (path && !PLATFORM_PATHS.includes(path)) {
    return { problem: `${shape}: "${path}" is not a path the simulator serves; give the origin only (the service adds /oauth2/v1 and /fhir-r4/v1)` };
  }
  return { origin: url.origin };
}

export type SecretsMap = Record<string, { clientId: string; clientSecret: string }>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses and checks the facilities document; collects every mistake before throwing one ConfigError. */
export function parseFacilities(doc: unknown, source = 'facilities file'): FacilityEntry[] {
  const problems: string[] = [];
  const list = isObject(doc) ? doc.facilities : doc;
  if (!Array.isArray(list)) {
    throw new ConfigError([`${source}: expected {"facilities": [ ... ]} (or a JSON array of facilities)`]);
  }
  if (list.length === 0) problems.push(`${source}: "facilities" is empty; configure at least one facility`);
  const seen = new Set<string>();
  const out: FacilityEntry[] = [];
  list.forEach((raw, i) => {
    const at = `${source}: facilities[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    for (const k of Object.keys(raw)) {
      if (FACILITY_KEYS.has(k) || k.startsWith('$')) continue; // "$comment" documents an entry
      if (SECRET_LOOKING.test(k)) problems.push(`${at}.${k}: secrets must not be in the facilities file; use credentials.clientIdEnv/clientSecretEnv or SATUSEHAT_SECRETS_FILE`);
      else problems.push(`${at}.${k}: unknown key (known: ${[...FACILITY_KEYS].join(', ')})`);
    }
    const org = raw.organizationId;
    if (typeof org !== 'string' || !ORG_ID.test(org)) {
      problems.push(`${at}.organizationId: required, the SATUSEHAT Organization id as a string (letters, digits, '-')`);
    } else if (seen.has(org)) {
      problems.push(`${at}.organizationId: "${org}" appears more than once`);
    } else seen.add(org);
    const where = typeof org === 'string' ? `${source}: facility ${org}` : at;

    if (raw.name !== undefined && (typeof raw.name !== 'string' || !raw.name.trim())) problems.push(`${where}.name: must be a non-empty string`);
    const environment = raw.environment;
    if (typeof environment !== 'string' || !ENVIRONMENTS.includes(environment as Environment)) {
      problems.push(`${where}.environment: must be one of ${ENVIRONMENTS.join(' | ')}`);
    }
    const timezone = raw.timezone ?? DEFAULT_TIMEZONE;
    if (typeof timezone !== 'string' || !isValidTimezone(timezone)) {
      problems.push(`${where}.timezone: "${String(timezone)}" is not an IANA time zone (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)`);
    }
    const quota = raw.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE;
    if (typeof quota !== 'number' || !Number.isInteger(quota) || quota < 1 || quota > 100_000) {
      problems.push(`${where}.quotaPerMinute: must be an integer between 1 and 100000 (default ${DEFAULT_QUOTA_PER_MINUTE})`);
    }
    // Keyed by location codes that records name: no prototype, so `constructor` or `toString` is no configured location.
    const locations = emptyTable<FacilityLocation>();
    if (raw.locations !== undefined && !isObject(raw.locations)) {
      problems.push(`${where}.locations: must be an object mapping location code → {name, physicalType}`);
    } else if (isObject(raw.locations)) {
      for (const [code, loc] of Object.entries(raw.locations)) {
        const lat = `${where}.locations.${code}`;
        if (!LOCATION_CODE.test(code)) problems.push(`${lat}: location codes may use letters, digits, '.', '_', '-' (max 64)`);
        if (!isObject(loc)) {
          problems.push(`${lat}: expected {"name": ..., "physicalType": ...}`);
          continue;
        }
        for (const k of Object.keys(loc)) if (!LOCATION_KEYS.has(k)) problems.push(`${lat}.${k}: unknown key (known: name, physicalType)`);
        if (typeof loc.name !== 'string' || !loc.name.trim()) problems.push(`${lat}.name: required, non-empty`);
        // The name is sent to the platform as Location.name: the same strict-string rules as record text.
        else if (stringProblem(loc.name)) problems.push(`${lat}.name: ${stringProblem(loc.name)}`);
        if (typeof loc.physicalType !== 'string' || !hasEntry(PHYSICAL_TYPES, loc.physicalType)) {
          problems.push(`${lat}.physicalType: must be a location-physical-type code (${Object.keys(PHYSICAL_TYPES).join(', ')})`);
        }
        locations[code] = { name: String(loc.name), physicalType: String(loc.physicalType) };
      }
    }
    let credentials: FacilityEntry['credentials'];
    if (raw.credentials !== undefined) {
      const c = raw.credentials;
      if (!isObject(c)) problems.push(`${where}.credentials: expected {"clientIdEnv": "VAR", "clientSecretEnv": "VAR"}`);
      else {
        for (const k of Object.keys(c)) {
          if (!CREDENTIAL_KEYS.has(k)) {
            problems.push(
              SECRET_LOOKING.test(k) || k === 'clientId'
                ? `${where}.credentials.${k}: secrets must not be in the facilities file; name environment variables in clientIdEnv/clientSecretEnv`
                : `${where}.credentials.${k}: unknown key (known: clientIdEnv, clientSecretEnv)`,
            );
          }
        }
        for (const k of ['clientIdEnv', 'clientSecretEnv'] as const) {
          if (typeof c[k] !== 'string' || !ENV_NAME.test(c[k] as string)) {
            problems.push(`${where}.credentials.${k}: required, the NAME of an environment variable (A-Z, 0-9, _)`);
          }
        }
        credentials = { clientIdEnv: String(c.clientIdEnv), clientSecretEnv: String(c.clientSecretEnv) };
      }
    }
    let simulatorUrl: string | undefined;
    if (raw.simulatorUrl !== undefined) {
      if (environment !== 'simulator') problems.push(`${where}.simulatorUrl: only allowed with environment "simulator"`);
      else {
        const parsed = parseSimulatorUrl(raw.simulatorUrl);
        if ('problem' in parsed) problems.push(`${where}.simulatorUrl: ${parsed.problem}`);
        else simulatorUrl = parsed.origin;
      }
    } else if (environment === 'simulator') {
      // Never a silent embedded simulator: a facility file that says "simulator" must say which one.
      problems.push(
        `${where}.simulatorUrl: required with environment "simulator": the origin of a simulator you run (\`npm run simulator\` listens on ` +
          `http://127.0.0.1:9090), or "${BUNDLED_SIMULATOR}" to start the bundled one inside this service (development only)`,
      );
    }
    out.push({
      organizationId: String(org),
      ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
      environment: environment as Environment,
      timezone: String(timezone),
      quotaPerMinute: Number(quota),
      locations,
      ...(credentials ? { credentials } : {}),
      ...(simulatorUrl ? { simulatorUrl } : {}),
    });
  });
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** SATUSEHAT_SECRETS_FILE: {"<organizationId>": {"clientId": "...", "clientSecret": "..."}}. Values are never echoed. */
export function parseSecrets(doc: unknown, source = 'secrets file'): SecretsMap {
  if (!isObject(doc)) throw new ConfigError([`${source}: expected an object mapping organizationId → {clientId, clientSecret}`]);
  const problems: string[] = [];
  const out: SecretsMap = Object.create(null) as SecretsMap; // keyed by file content: no prototype keys
  for (const [org, v] of Object.entries(doc)) {
    if (org.startsWith('$')) continue; // "$comment" documents the file
    if (!isObject(v) || typeof v.clientId !== 'string' || !v.clientId || typeof v.clientSecret !== 'string' || !v.clientSecret) {
      problems.push(`${source}: entry for organization ${org} needs non-empty string fields clientId and clientSecret`);
      continue;
    }
    out[org] = { clientId: v.clientId, clientSecret: v.clientSecret };
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${what} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${what} ${file}: not valid JSON (${(e as Error).message})`]);
  }
}

/**
 * Resolves each entry's secret (environment variables named in `credentials`, else the secrets file) and its base URLs.
 * A facility whose secret is missing is a start-up error: never a silent fallback to the simulator.
 * `simulatorOrigin` is the bundled simulator's origin, used for facilities whose simulatorUrl is BUNDLED_SIMULATOR.
 */
export function resolveFacilities(
  entries: FacilityEntry[],
  env: NodeJS.ProcessEnv,
  secrets: SecretsMap | undefined,
  simulatorOrigin?: string,
): FacilityConfig[] {
  const problems: string[] = [];
  const out: FacilityConfig[] = [];
  for (const e of entries) {
    let clientId: string | undefined;
    let clientSecret: string | undefined;
    if (e.credentials) {
      clientId = ownEntry(env, e.credentials.clientIdEnv);
      clientSecret = ownEntry(env, e.credentials.clientSecretEnv);
      if (!clientId) problems.push(`facility ${e.organizationId}: environment variable ${e.credentials.clientIdEnv} (client id) is not set`);
      if (!clientSecret) problems.push(`facility ${e.organizationId}: environment variable ${e.credentials.clientSecretEnv} (client secret) is not set`);
    } else if (secrets && ownEntry(secrets, e.organizationId)) {
      ({ clientId, clientSecret } = ownEntry(secrets, e.organizationId)!);
    } else {
      problems.push(
        `facility ${e.organizationId}: no credentials; add "credentials": {"clientIdEnv", "clientSecretEnv"} to its entry or an entry for it in SATUSEHAT_SECRETS_FILE`,
      );
    }
    let urls;
    if (e.environment === 'simulator') {
      const origin = e.simulatorUrl === BUNDLED_SIMULATOR ? simulatorOrigin : e.simulatorUrl;
      if (!origin) {
        problems.push(`facility ${e.organizationId}: environment "simulator" needs simulatorUrl (${e.simulatorUrl === BUNDLED_SIMULATOR ? 'no bundled simulator is running' : 'none given'})`);
        continue;
      }
      urls = simulatorUrls(origin);
    } else urls = ENVIRONMENT_URLS[e.environment];
    if (!clientId || !clientSecret) continue;
    out.push({
      organizationId: e.organizationId,
      ...(e.name ? { name: e.name } : {}),
      environment: e.environment,
      ...urls,
      clientId,
      clientSecret,
      timezone: e.timezone,
      quotaPerMinute: e.quotaPerMinute,
      locations: e.locations,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** A facility config safe to log or return from an API: the secret is gone, the client id masked. */
export function describeFacility(f: FacilityConfig): Record<string, unknown> {
  return {
    organizationId: f.organizationId,
    name: f.name,
    environment: f.environment,
    fhirBaseUrl: f.fhirBaseUrl,
    timezone: f.timezone,
    quotaPerMinute: f.quotaPerMinute,
    locations: Object.keys(f.locations),
  };
}
