// The facilities file: which Puskesmas this service delivers for, against which SATUSEHAT environment, with which
// locations, and where each one's secret comes from. Secrets never live in this file (it is meant to be committed).
import fs from 'node:fs';
import path from 'node:path';
import { mappingsDir, packageRoot } from '../util/paths.js';
import { emptyTable, hasEntry, ownEntry } from '../util/own.js';
import { stringProblemOf } from '../util/strict-strings.js';
import { renderMessage } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';
import type { Environment, FacilityConfig, FacilityLocation } from '../platform/types.js';
import { atField, ConfigError, configProblem as cp, type ConfigProblem } from './errors.js';
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

/** The sample facility of sandbox-simulator mode (no FACILITIES_FILE; documented in the README). */
export const SIMULATOR_FACILITIES_FILE = path.join(packageRoot, 'config', 'facilities.simulator.json');

/** The platform's path prefixes: a simulatorUrl that ends in one of them named the base URL instead of the origin. */
const PLATFORM_PATHS = ['/fhir-r4/v1', '/oauth2/v1'];

/**
 * `simulatorUrl` → the simulator's origin. A URL ending in `/fhir-r4/v1` or `/oauth2/v1` (the FHIR or auth base, a common
 * copy-paste) is accepted as its origin, since the simulator serves both under one origin; any other path is a mistake.
 */
export function parseSimulatorUrl(value: unknown): { origin: string } | { problem: string; ref: ConfigProblem } {
  if (value === BUNDLED_SIMULATOR) return { origin: BUNDLED_SIMULATOR };
  // `problem` in English (logs, tests); `ref` says it in the operator's language inside the configuration problem.
  const refused = (key: string, params: Params = {}) => {
    const ref = cp(`facilities.simulator-url.${key}`, { bundled: BUNDLED_SIMULATOR, ...params });
    return { problem: renderMessage('en', ref.key, ref.params), ref };
  };
  if (typeof value !== 'string') return refused('shape');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return refused('shape');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return refused('shape');
  if (url.search || url.hash || url.username || url.password) return refused('extras');
  const path = url.pathname.replace(/\/+$/, '');
  if (path && !PLATFORM_PATHS.includes(path)) return refused('path', { path });
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
  const problems: ConfigProblem[] = [];
  const list = isObject(doc) ? doc.facilities : doc;
  if (!Array.isArray(list)) {
    throw new ConfigError([cp('facilities.shape', { source })]);
  }
  if (list.length === 0) problems.push(cp('facilities.empty', { source }));
  const seen = new Set<string>();
  const out: FacilityEntry[] = [];
  list.forEach((raw, i) => {
    const at = `${source}: facilities[${i}]`;
    if (!isObject(raw)) {
      problems.push(cp('entry.object', { at }));
      return;
    }
    for (const k of Object.keys(raw)) {
      if (FACILITY_KEYS.has(k) || k.startsWith('$')) continue; // "$comment" documents an entry
      if (SECRET_LOOKING.test(k)) problems.push(cp('facilities.secret-in-file', { at: `${at}.${k}` }));
      else problems.push(cp('entry.unknown-key', { at: `${at}.${k}`, known: [...FACILITY_KEYS].join(', ') }));
    }
    const org = raw.organizationId;
    if (typeof org !== 'string' || !ORG_ID.test(org)) {
      problems.push(cp('facilities.organization-id', { at: `${at}.organizationId` }));
    } else if (seen.has(org)) {
      problems.push(cp('facilities.organization-duplicate', { at: `${at}.organizationId`, org }));
    } else seen.add(org);
    const where = typeof org === 'string' ? `${source}: facility ${org}` : at;

    if (raw.name !== undefined && (typeof raw.name !== 'string' || !raw.name.trim())) problems.push(cp('entry.non-empty-string', { at: `${where}.name` }));
    const environment = raw.environment;
    if (typeof environment !== 'string' || !ENVIRONMENTS.includes(environment as Environment)) {
      problems.push(cp('facilities.environment', { at: `${where}.environment`, choices: ENVIRONMENTS.join(' | ') }));
    }
    const timezone = raw.timezone ?? DEFAULT_TIMEZONE;
    if (typeof timezone !== 'string' || !isValidTimezone(timezone)) {
      problems.push(cp('facilities.timezone', { at: `${where}.timezone`, value: String(timezone) }));
    }
    const quota = raw.quotaPerMinute ?? DEFAULT_QUOTA_PER_MINUTE;
    if (typeof quota !== 'number' || !Number.isInteger(quota) || quota < 1 || quota > 100_000) {
      problems.push(cp('facilities.quota', { at: `${where}.quotaPerMinute`, dflt: DEFAULT_QUOTA_PER_MINUTE }));
    }
    // Keyed by location codes that records name: no prototype, so `constructor` or `toString` is no configured location.
    const locations = emptyTable<FacilityLocation>();
    if (raw.locations !== undefined && !isObject(raw.locations)) {
      problems.push(cp('facilities.locations-shape', { at: `${where}.locations` }));
    } else if (isObject(raw.locations)) {
      for (const [code, loc] of Object.entries(raw.locations)) {
        const lat = `${where}.locations.${code}`;
        if (!LOCATION_CODE.test(code)) problems.push(cp('facilities.location-code', { at: lat }));
        if (!isObject(loc)) {
          problems.push(cp('facilities.location-shape', { at: lat }));
          continue;
        }
        for (const k of Object.keys(loc)) if (!LOCATION_KEYS.has(k)) problems.push(cp('entry.unknown-key', { at: `${lat}.${k}`, known: 'name, physicalType' }));
        if (typeof loc.name !== 'string' || !loc.name.trim()) problems.push(cp('facilities.location-name', { at: `${lat}.name` }));
        // The name is sent to the platform as Location.name: the same strict-string rules as record text.
        else if (stringProblemOf(loc.name)) problems.push(atField(`${lat}.name`, stringProblemOf(loc.name)!));
        if (typeof loc.physicalType !== 'string' || !hasEntry(PHYSICAL_TYPES, loc.physicalType)) {
          problems.push(cp('facilities.physical-type', { at: `${lat}.physicalType`, codes: Object.keys(PHYSICAL_TYPES).join(', ') }));
        }
        locations[code] = { name: String(loc.name), physicalType: String(loc.physicalType) };
      }
    }
    let credentials: FacilityEntry['credentials'];
    if (raw.credentials !== undefined) {
      const c = raw.credentials;
      if (!isObject(c)) problems.push(cp('facilities.credentials-shape', { at: `${where}.credentials` }));
      else {
        for (const k of Object.keys(c)) {
          if (!CREDENTIAL_KEYS.has(k)) {
            problems.push(
              SECRET_LOOKING.test(k) || k === 'clientId'
                ? cp('facilities.credentials-secret', { at: `${where}.credentials.${k}` })
                : cp('entry.unknown-key', { at: `${where}.credentials.${k}`, known: 'clientIdEnv, clientSecretEnv' }),
            );
          }
        }
        for (const k of ['clientIdEnv', 'clientSecretEnv'] as const) {
          if (typeof c[k] !== 'string' || !ENV_NAME.test(c[k] as string)) {
            problems.push(cp('facilities.credentials-env', { at: `${where}.credentials.${k}` }));
          }
        }
        credentials = { clientIdEnv: String(c.clientIdEnv), clientSecretEnv: String(c.clientSecretEnv) };
      }
    }
    let simulatorUrl: string | undefined;
    if (raw.simulatorUrl !== undefined) {
      if (environment !== 'simulator') problems.push(cp('facilities.simulator-url-not-allowed', { at: `${where}.simulatorUrl` }));
      else {
        const parsed = parseSimulatorUrl(raw.simulatorUrl);
        if ('problem' in parsed) problems.push(atField(`${where}.simulatorUrl`, parsed.ref));
        else simulatorUrl = parsed.origin;
      }
    } else if (environment === 'simulator') {
      // Never a silent embedded simulator: a facility file that says "simulator" must say which one.
      problems.push(cp('facilities.simulator-url-required', { at: `${where}.simulatorUrl`, bundled: BUNDLED_SIMULATOR }));
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
  if (!isObject(doc)) throw new ConfigError([cp('secrets.shape', { source })]);
  const problems: ConfigProblem[] = [];
  const out: SecretsMap = Object.create(null) as SecretsMap; // keyed by file content: no prototype keys
  for (const [org, v] of Object.entries(doc)) {
    if (org.startsWith('$')) continue; // "$comment" documents the file
    if (!isObject(v) || typeof v.clientId !== 'string' || !v.clientId || typeof v.clientSecret !== 'string' || !v.clientSecret) {
      problems.push(cp('secrets.entry', { source, org }));
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
    throw new ConfigError([cp('file.unreadable', { what, file, code: (e as NodeJS.ErrnoException).code ?? 'error' })]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([cp('file.not-json', { what, file, reason: (e as Error).message })]);
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
  const problems: ConfigProblem[] = [];
  const out: FacilityConfig[] = [];
  for (const e of entries) {
    let clientId: string | undefined;
    let clientSecret: string | undefined;
    if (e.credentials) {
      clientId = ownEntry(env, e.credentials.clientIdEnv);
      clientSecret = ownEntry(env, e.credentials.clientSecretEnv);
      if (!clientId) problems.push(cp('facility.client-id-unset', { org: e.organizationId, name: e.credentials.clientIdEnv }));
      if (!clientSecret) problems.push(cp('facility.client-secret-unset', { org: e.organizationId, name: e.credentials.clientSecretEnv }));
    } else if (secrets && ownEntry(secrets, e.organizationId)) {
      ({ clientId, clientSecret } = ownEntry(secrets, e.organizationId)!);
    } else {
      problems.push(cp('facility.no-credentials', { org: e.organizationId }));
    }
    let urls;
    if (e.environment === 'simulator') {
      const origin = e.simulatorUrl === BUNDLED_SIMULATOR ? simulatorOrigin : e.simulatorUrl;
      if (!origin) {
        problems.push(cp(e.simulatorUrl === BUNDLED_SIMULATOR ? 'facility.simulator-not-running' : 'facility.simulator-none', { org: e.organizationId }));
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
