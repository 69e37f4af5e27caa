// Replay contract suite: every recorded SATUSEHAT answer in PLATFORM_RESPONSES_DIR (default ../shared/platform-responses,
// read in place, never copied) is served by nock to the real platform client through the request it answers, and what
// the client makes of it is asserted. Run: npm run test:replay. A recording without an entry in EXPECTED fails the
// suite, so a new file must be classified here (with the reason) before CI passes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import type { Bundle, Patient, Resource } from 'fhir/r4.js';
import { packageRoot } from '../../src/util/paths.js';
import { createPlatformClient, idsFromTransactionResponse, NIK_IBU_SYSTEM, NIK_SYSTEM, type SatusehatClient } from '../../src/platform/client.js';
import { errorFromResponse } from '../../src/platform/errors.js';
import { createFacilityLimiter, type FacilityLimiter } from '../../src/platform/limiter.js';
import { PlatformError, type PlatformErrorKind, type PlatformErrorReason } from '../../src/platform/types.js';
import { facility, manualClock, tokenBody } from '../platform/helpers.js';

const DIR = path.resolve(packageRoot, process.env.PLATFORM_RESPONSES_DIR ?? '../shared/platform-responses');
if (!existsSync(path.join(DIR, 'README.md'))) throw new Error(`Platform response corpus not found at ${DIR}: set PLATFORM_RESPONSES_DIR`);

interface Recording {
  request: { method: string; path: string };
  status: number | null;
  headers: Record<string, string>;
  body: unknown;
  notes?: string;
}

const ORIGIN = 'https://api-satusehat.replay.test';
const FHIR_BASE = '/fhir-r4/v1';
const TOKEN_PATH = '/oauth2/v1/accesstoken';
/** The production organization of the ndiing log: its Location search is scoped to it (identifier system carries it). */
const ORG = '100027857';
/** The corpus redacts NIKs to 9s, keeping the length. */
const NIK9 = '9999999999999999';

type Drive =
  | { op: 'token' }
  | { op: 'createPatient'; via: 'nik' | 'nik-ibu' }
  | { op: 'create'; type: string }
  | { op: 'transaction'; types: string[] }
  | { op: 'update'; type: string; id: string }
  | { op: 'read'; type: string; id: string }
  | { op: 'search'; type: string; params: Record<string, string> }
  | { op: 'findPatientByNik' | 'findPatientsByMotherNik' | 'findPractitionerByNik'; nik: string }
  | { op: 'findLocation'; code: string }
  /** Not a FHIR-client endpoint (KYC) or no request recorded: the error classifier alone. */
  | { op: 'classify' };

type Expect =
  | { patient: { id: string; existed: boolean } }
  | { created: { id: string; versionId?: string } }
  | { transaction: Array<{ resourceType: string; id: string; versionId?: string }> }
  | { resource: { resourceType: string; id: string } }
  | { resources: { resourceType: string; count: number; first?: string } }
  | { found: string | undefined }
  | { tokenLifetimeS: number }
  | { error: PlatformErrorKind; status?: number; rules?: string[]; reason?: PlatformErrorReason; retryAfterMs?: number; text?: RegExp };

interface Expectation {
  /** Why this is the right reading of the recording. */
  why: string;
  drive: Drive;
  expect: Expect;
  /** Only for recordings with status null/"?": the status the notes infer (said in `why`). */
  inferredStatus?: number;
  /** The concrete request when the recording holds a template (`{id}`, `<id>`) or omits the query the client sends. */
  request?: { method?: string; path: string };
  /** Exchanges served with this answer (a 401 is seen twice: the client refreshes the token once). */
  times?: number;
}

const patientByNik: Patient = { resourceType: 'Patient', identifier: [{ system: NIK_SYSTEM, value: NIK9 }], gender: 'female', birthDate: '1990-01-01' };
const newborn: Patient = { resourceType: 'Patient', identifier: [{ system: NIK_IBU_SYSTEM, value: NIK9 }], birthDate: '2026-11-30', multipleBirthInteger: 1 };

const EXPECTED: Record<string, Expectation> = {
  'bundle-transaction-response-staging.json': {
    why: 'ids from the absolute locations, opaque shared version, cross-checked with resourceType/resourceID; status not in the source, 200 per FHIR and the PNC spike',
    inferredStatus: 200,
    drive: { op: 'transaction', types: ['AllergyIntolerance', 'AllergyIntolerance'] },
    expect: { transaction: [
      { resourceType: 'AllergyIntolerance', id: 'd59a46cc-be28-49df-98fd-3973e87d68c0', versionId: 'MTc1MzkzNTY4NTM1MzIzOTAwMA' },
      { resourceType: 'AllergyIntolerance', id: 'cc20cee0-c8aa-4603-8729-30d2c15fb56c', versionId: 'MTc1MzkzNTY4NTM1MzIzOTAwMA' },
    ] },
  },
  'diagnostic-report-put-201-postman.json': {
    why: 'PUT answered 201 (upsert) is a success',
    request: { path: `${FHIR_BASE}/DiagnosticReport/ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6` },
    drive: { op: 'update', type: 'DiagnosticReport', id: 'ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6' },
    expect: { resource: { resourceType: 'DiagnosticReport', id: 'ec63dc9a-738d-4f7b-8a4d-86ca9e621ef6' } },
  },
  'encounter-create-201-postman.json': {
    why: 'id from the echoed body, agreeing with the Google Cloud Healthcare Location header (parsed, never followed: the net is closed)',
    drive: { op: 'create', type: 'Encounter' },
    expect: { created: { id: '326ae5b2-6ca9-4678-b36a-5d5335843def', versionId: 'MTY2MDAxMzEwMzUwMzU0ODAwMA' } },
  },
  'encounter-read-staging-2026.json': {
    why: 'plain read; the id is the anonymised one in the body',
    request: { path: `${FHIR_BASE}/Encounter/2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f` },
    drive: { op: 'read', type: 'Encounter', id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f' },
    expect: { resource: { resourceType: 'Encounter', id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f' } },
  },
  'encounter-search-subject-paged-postman.json': {
    why: 'total 722, 100 entries, no link at all: truncated, so neither found nor absent may be concluded (query from the notes)',
    request: { path: `${FHIR_BASE}/Encounter?subject=100000030009` },
    drive: { op: 'search', type: 'Encounter', params: { subject: '100000030009' } },
    expect: { error: 'transient', reason: 'search-truncated' },
  },
  'encounter-update-finished-200-go-log.json': {
    why: 'PUT to finish echoes the resource; status not recorded, 200 per docs/Postman',
    inferredStatus: 200,
    drive: { op: 'update', type: 'Encounter', id: '6a25f268-8179-4592-a2ea-e405419fc80f' },
    expect: { resource: { resourceType: 'Encounter', id: '6a25f268-8179-4592-a2ea-e405419fc80f' } },
  },
  'encounter-update-finished-200-postman.json': {
    why: 'PUT 200 with the updated resource',
    request: { path: `${FHIR_BASE}/Encounter/3dedcec9-885d-435e-9ac5-58853cb216bb` },
    drive: { op: 'update', type: 'Encounter', id: '3dedcec9-885d-435e-9ac5-58853cb216bb' },
    expect: { resource: { resourceType: 'Encounter', id: '3dedcec9-885d-435e-9ac5-58853cb216bb' } },
  },
  'error-400-duplicate-location-ruleno-staging.json': {
    why: '"Found duplicate: Location (RuleNumber: 20002)" (staging 2026)',
    drive: { op: 'create', type: 'Location' },
    expect: { error: 'duplicate', status: 400, rules: ['20002'] },
  },
  'error-400-duplicate-location.json': {
    why: 'production 2024 duplicate without a rule number: issue.code duplicate decides',
    drive: { op: 'create', type: 'Location' },
    expect: { error: 'duplicate', status: 400, rules: [] },
  },
  'error-400-duplicate-organization.json': {
    why: 'same duplicate shape for Organization, no rule number',
    drive: { op: 'create', type: 'Organization' },
    expect: { error: 'duplicate', status: 400, rules: [] },
  },
  'error-400-episodeofcare-duplicate-rule-number-spaced.json': {
    why: '"(Rule Number: N)" with a space; 10109/10110 are rule refusals, not 20002 (status not stated, "presumably 400" per the notes)',
    inferredStatus: 400,
    drive: { op: 'create', type: 'EpisodeOfCare' },
    expect: { error: 'validation', status: 400, rules: ['10109', '10110'] },
  },
  'error-400-immunization-required-elements-staging.json': {
    why: 'four Kamus rules in one outcome, every rule number kept',
    drive: { op: 'create', type: 'Immunization' },
    expect: { error: 'validation', status: 400, rules: ['10105', '10292', '10307', '10450'] },
  },
  'error-400-invalid-query.json': {
    why: 'Google-style machine code invalid_query → validation, human text kept',
    drive: { op: 'search', type: 'Location', params: { name: '', identifier: 'undefined' } },
    expect: { error: 'validation', status: 400, rules: [], text: /invalid value for query: "name"/ },
  },
  'error-400-patient-nik-ibu-not-female.json': {
    why: 'MPI refusal (code exception, no rule): the record must be corrected',
    drive: { op: 'createPatient', via: 'nik-ibu' },
    expect: { error: 'validation', status: 400, rules: [] },
  },
  'error-400-reference-not-found.json': {
    why: 'reference_not_found on a write is a payload to correct (validation), not "the addressed resource is gone" (not-found)',
    drive: { op: 'create', type: 'Location' },
    expect: { error: 'validation', status: 400, rules: [], text: /reference target\(s\) not found: Organization\/undefined/ },
  },
  'error-400-rule-10117-wrong-org-id.json': {
    why: 'rule 10117 = this credential may not write for that org: facility configuration (status unknown; 400 like every other rule error)',
    inferredStatus: 400,
    drive: { op: 'create', type: 'Encounter' },
    expect: { error: 'forbidden', status: 400, rules: ['10117'] },
  },
  'error-400-rule-10457-encounter-needs-diagnosis-staging.json': {
    why: 'finished Encounter without diagnosis refused by rule 10457',
    drive: { op: 'create', type: 'Encounter' },
    expect: { error: 'validation', status: 400, rules: ['10457'] },
  },
  'error-400-search-missing-subject-staging.json': {
    why: 'a search refused for a missing parameter: validation (the encounter id is a placeholder in the recording)',
    request: { path: `${FHIR_BASE}/MedicationDispense?context=2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f` },
    drive: { op: 'search', type: 'MedicationDispense', params: { context: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f' } },
    expect: { error: 'validation', status: 400 },
  },
  'error-401-invalid-access-token.json': {
    why: 'whitespace-padded Apigee body, code invalid-access-token: the client refreshes the token once, gets it again, gives up as auth',
    times: 2,
    drive: { op: 'findPatientByNik', nik: NIK9 },
    expect: { error: 'auth', status: 401, text: /Invalid Access Token/ },
  },
  'error-403-put-episodeofcare-consent.json': {
    why: '403 on PUT → forbidden (the recording has a placeholder id)',
    request: { path: `${FHIR_BASE}/EpisodeOfCare/5b1e7e1a-0000-4000-8000-000000000001` },
    drive: { op: 'update', type: 'EpisodeOfCare', id: '5b1e7e1a-0000-4000-8000-000000000001' },
    expect: { error: 'forbidden', status: 403 },
  },
  'error-404-read-not-found-staging.json': {
    why: '404 + storage_error → not-found',
    drive: { op: 'read', type: 'Condition', id: '00000000-0000-4000-8000-000000000000' },
    expect: { error: 'not-found', status: 404, text: /resource not found: Condition/ },
  },
  'error-404-read-not-found.json': {
    why: '404 + storage_error → not-found (production)',
    drive: { op: 'read', type: 'Organization', id: '111' },
    expect: { error: 'not-found', status: 404, text: /resource not found: Organization\/111/ },
  },
  'error-500-patient-create-unexpected-staging.json': {
    why: '500 on Patient create (unknown NIK on staging): transient, bounded by the sync retry cap; never repeated within the call (a write)',
    drive: { op: 'createPatient', via: 'nik' },
    expect: { error: 'transient', status: 500 },
  },
  'error-5xx-gateway-timeout-text-docexample.json': {
    why: 'text/plain 504 on any request → transient; replayed on a read',
    request: { method: 'GET', path: `${FHIR_BASE}/Patient/P02478375538` },
    drive: { op: 'read', type: 'Patient', id: 'P02478375538' },
    expect: { error: 'transient', status: 504, text: /Gateway Timeout/ },
  },
  'error-business-rule-org-mismatch-docfragment.json': {
    why: 'documented text for another org\'s resource; status undocumented, 403 inferred (access refused) → forbidden; replayed on a read of a foreign Organization',
    inferredStatus: 403,
    request: { method: 'GET', path: `${FHIR_BASE}/Organization/100000001` },
    drive: { op: 'read', type: 'Organization', id: '100000001' },
    expect: { error: 'forbidden', status: 403 },
  },
  'kyc-200-with-error-in-body.json': {
    why: 'KYC (not a FHIR-client endpoint): HTTP 200 with metadata.code "400" inside is a refusal, not a success',
    drive: { op: 'classify' },
    expect: { error: 'validation', status: 200, text: /Failed to decrypt message/ },
  },
  'kyc-500-plain-text-panic.json': {
    why: 'KYC plain-text 500 → transient',
    drive: { op: 'classify' },
    expect: { error: 'transient', status: 500, text: /A panic occurred/ },
  },
  'location-create-201-minimal-go-log.json': {
    why: 'minimal Location accepted; status not in the source, 201 expected per the notes',
    inferredStatus: 201,
    drive: { op: 'create', type: 'Location' },
    expect: { created: { id: 'f1ff604e-0900-48db-8ef8-b59832314640', versionId: 'MTc0MDU1NTM5MDc2NTgwNDAwMA' } },
  },
  'location-create-201-production.json': {
    why: 'Location create echo (production)',
    drive: { op: 'create', type: 'Location' },
    expect: { created: { id: 'f0f0944a-0a7d-4c95-a955-e9409468895a', versionId: 'MTcxNjE4MjcyNTc3OTk0NzAwMA' } },
  },
  'location-search-identifier-production-1-hit.json': {
    why: 'findLocation with the org-scoped identifier system; the gateway adds &organization= (not a dropped filter)',
    drive: { op: 'findLocation', code: 'GT1-R-IGD-PONEK' },
    expect: { found: 'ff7c2caa-bb55-4e27-9cfb-b33190413fb5' },
  },
  'location-search-name-postman.json': {
    why: 'older build: entries hold the resources themselves (no entry.resource) and no link; total 3 = 3 read (query value not recorded)',
    request: { path: `${FHIR_BASE}/Location?name=Ruang 1A` },
    drive: { op: 'search', type: 'Location', params: { name: 'Ruang 1A' } },
    expect: { resources: { resourceType: 'Location', count: 3, first: '6535d894ed4ddb488c9fd91b' } },
  },
  'location-update-200-postman.json': {
    why: 'PUT 200 (Location header points at the dev Healthcare store: ignored)',
    request: { path: `${FHIR_BASE}/Location/dc01c797-547a-4e4d-97cd-4ece0630e380` },
    drive: { op: 'update', type: 'Location', id: 'dc01c797-547a-4e4d-97cd-4ece0630e380' },
    expect: { resource: { resourceType: 'Location', id: 'dc01c797-547a-4e4d-97cd-4ece0630e380' } },
  },
  'observation-create-201-postman.json': {
    why: 'Observation create: body id agrees with the Google Location header',
    drive: { op: 'create', type: 'Observation' },
    expect: { created: { id: '40a8c3c0-89fb-4ed3-b646-399c6a909d8a', versionId: 'MTY3MjM2NTg2MTk2ODY5MjAwMA' } },
  },
  'observation-read-staging-2026.json': {
    why: 'plain read (anonymised id from the body)',
    request: { path: `${FHIR_BASE}/Observation/00000002-0000-4000-8000-000000000002` },
    drive: { op: 'read', type: 'Observation', id: '00000002-0000-4000-8000-000000000002' },
    expect: { resource: { resourceType: 'Observation', id: '00000002-0000-4000-8000-000000000002' } },
  },
  'organization-create-201-production.json': {
    why: 'Organization create echo: id from the body',
    drive: { op: 'create', type: 'Organization' },
    expect: { created: { id: 'e1f7ae3b-9e8c-4a5e-ab6f-d32ab7818f82', versionId: 'MTcxNjE4MTYyNjIxMzczOTAwMA' } },
  },
  'organization-read-production.json': {
    why: 'read of the facility\'s own Organization',
    drive: { op: 'read', type: 'Organization', id: '100027857' },
    expect: { resource: { resourceType: 'Organization', id: '100027857' } },
  },
  'organization-search-partof-production.json': {
    why: 'searchset of 55 sub-organizations, total 55, self link echoes partof',
    drive: { op: 'search', type: 'Organization', params: { partof: '100027857' } },
    expect: { resources: { resourceType: 'Organization', count: 55, first: 'd14289f6-6ba7-4438-911f-ad68965085cd' } },
  },
  'patient-create-newborn-200-duplicate-postman.json': {
    why: 'HTTP 200 success:false + data.resourceID = the patient exists: adopted, never a retryable failure',
    drive: { op: 'createPatient', via: 'nik-ibu' },
    expect: { patient: { id: 'P02029102427', existed: true } },
  },
  'patient-create-newborn-200-success-postman.json': {
    why: 'HTTP 200, data["Patient ID:"] (key with a space and a colon)',
    drive: { op: 'createPatient', via: 'nik-ibu' },
    expect: { patient: { id: 'P02029102701', existed: false } },
  },
  'patient-read-by-id-postman-2023.json': {
    why: 'minimal Patient read',
    request: { path: `${FHIR_BASE}/Patient/P02478375538` },
    drive: { op: 'read', type: 'Patient', id: 'P02478375538' },
    expect: { resource: { resourceType: 'Patient', id: 'P02478375538' } },
  },
  'patient-search-nik-ibu-staging-12-hits.json': {
    why: 'total 12 with one entry and no next link (the dump collapsed 11): as recorded it is a truncated answer, never "these are all the children"',
    drive: { op: 'findPatientsByMotherNik', nik: NIK9 },
    expect: { error: 'transient', reason: 'search-truncated' },
  },
  'patient-search-nik-postman-2023.json': {
    why: 'masked NIK, one hit; the query (from the recorded search link) is sent as a plain search and echoed in full',
    request: { path: `${FHIR_BASE}/Patient?birthdate=1980-12-03&identifier=${encodeURIComponent(`${NIK_SYSTEM}|${NIK9}`)}&name=patient` },
    drive: { op: 'search', type: 'Patient', params: { birthdate: '1980-12-03', identifier: `${NIK_SYSTEM}|${NIK9}`, name: 'patient' } },
    expect: { resources: { resourceType: 'Patient', count: 1, first: 'P02478375538' } },
  },
  'patient-search-nik-production-0-hits.json': {
    why: 'total 0 with "entry": [] = no patient',
    drive: { op: 'findPatientByNik', nik: NIK9 },
    expect: { found: undefined },
  },
  'patient-search-nik-production-1-hit.json': {
    why: 'one minimal Patient, NIK masked "################"',
    drive: { op: 'findPatientByNik', nik: NIK9 },
    expect: { found: 'P00491375203' },
  },
  'patient-search-nik-staging-2025-full.json': {
    why: 'full staging Patient (deceasedBoolean true, identifiers in the other order); no link (collapsed in the dump); NIK placeholder → the redacted one',
    request: { path: `${FHIR_BASE}/Patient?identifier=${encodeURIComponent(`${NIK_SYSTEM}|${NIK9}`)}` },
    drive: { op: 'findPatientByNik', nik: NIK9 },
    expect: { found: 'P02478375538' },
  },
  'practitioner-read-by-id-postman.json': {
    why: 'Practitioner read (sandbox dummy)',
    request: { path: `${FHIR_BASE}/Practitioner/N10000005` },
    drive: { op: 'read', type: 'Practitioner', id: 'N10000005' },
    expect: { resource: { resourceType: 'Practitioner', id: 'N10000005' } },
  },
  'practitioner-search-name-production-0-hits.json': {
    why: 'birthdate silently dropped (self link lacks it) but zero hits under a wider filter are still zero',
    drive: { op: 'search', type: 'Practitioner', params: { name: 'Voigt', gender: 'male', birthdate: '1945' } },
    expect: { resources: { resourceType: 'Practitioner', count: 0 } },
  },
  'practitioner-search-nik-production.json': {
    why: 'Practitioner by NIK (unmasked) → IHS id',
    drive: { op: 'findPractitionerByNik', nik: NIK9 },
    expect: { found: '10018660251' },
  },
  'token-403-forbidden-outside-indonesia.json': {
    why: '403 from the token endpoint: auth with a lockout (no loop), reason token-forbidden, the outcome names the network cause; the run log omits the grant_type query the client always sends',
    request: { path: `${TOKEN_PATH}?grant_type=client_credentials` },
    drive: { op: 'token' },
    expect: { error: 'auth', status: 403, reason: 'token-forbidden', retryAfterMs: 60_000, text: /outside Indonesia/ },
  },
  'token-fail-invalid-client-docexample.json': {
    why: 'documented invalid-client body (severity "invalid"); the page says only 4xx, community code says 401 → auth with the 1-minute lockout',
    inferredStatus: 401,
    drive: { op: 'token' },
    expect: { error: 'auth', status: 401, retryAfterMs: 60_000, text: /not able to be authenticated/ },
  },
  'token-fail-rate-limited-docexample.json': {
    why: 'documented rate-limit text in the invalid-client envelope; status unknown (401 or 429), 401 inferred like its sibling → auth, locked out for the documented minute',
    inferredStatus: 401,
    drive: { op: 'token' },
    expect: { error: 'auth', status: 401, retryAfterMs: 60_000, text: /rate limit policy/ },
  },
  'token-success-docexample.json': {
    why: 'documented token: expires_in "3599" read from the string',
    drive: { op: 'token' },
    expect: { tokenLifetimeS: 3599 },
  },
  'token-success-production.json': {
    why: 'production token: every field a string, expires_in "14399", token_type BearerToken',
    drive: { op: 'token' },
    expect: { tokenLifetimeS: 14399 },
  },
};

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string): Recording => JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Recording;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// The body is re-serialised, so recorded framing headers would lie about it.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'connection']);

/** Recorded headers as sendable ones: "content-type (logged mimeType)" is the logged content type; notes in values dropped. */
function sendableHeaders(recorded: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, rawValue] of Object.entries(recorded ?? {})) {
    const name = rawName.replace(/\s*\(.*\)\s*$/, '').toLowerCase();
    if (!HEADER_NAME.test(name) || FRAMING.has(name) || typeof rawValue !== 'string') continue;
    out[name] = rawValue.replace(/\s+\(.*\)\s*$/, '');
  }
  return out;
}

const statusOf = (rec: Recording, exp: Expectation): number => {
  if (typeof rec.status === 'number') {
    if (exp.inferredStatus !== undefined) throw new Error('inferredStatus given for a recording that has a status');
    return rec.status;
  }
  if (exp.inferredStatus === undefined) throw new Error('the recording has no status: give inferredStatus (and say why)');
  return exp.inferredStatus;
};

const trimSlash = (p: string): string => p.replace(/\/+$/, '');
const sortedQuery = (q: URLSearchParams): string => JSON.stringify([...q.entries()].sort());

/** Serves the recorded answer at its recorded (or concretised) method + path, query compared exactly. */
function serve(rec: Recording, exp: Expectation): nock.Scope {
  const method = (exp.request?.method ?? rec.request.method).toUpperCase();
  const target = new URL(exp.request?.path ?? rec.request.path, ORIGIN);
  if (/[{}<>]/.test(decodeURIComponent(target.pathname + target.search))) throw new Error(`template in the recorded path: give request.path (${target.pathname})`);
  const matches = (uri: string): boolean => {
    const u = new URL(uri, ORIGIN);
    return trimSlash(u.pathname) === trimSlash(target.pathname) && sortedQuery(u.searchParams) === sortedQuery(target.searchParams);
  };
  const status = statusOf(rec, exp);
  const headers = sendableHeaders(rec.headers);
  const body = rec.body === null || rec.body === undefined ? '' : rec.body;
  // String bodies go out as the recorded bytes; JSON bodies as JSON.
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  if (typeof body !== 'string' && !headers['content-type']) headers['content-type'] = 'application/json';
  return nock(ORIGIN).intercept(matches, method).times(exp.times ?? 1).reply(status, payload, headers);
}

function clientFor(clock: { now: () => number }, limiters: FacilityLimiter[]): SatusehatClient {
  const limiter = createFacilityLimiter(ORG, { quotaPerMinute: 150 });
  limiters.push(limiter);
  // One recorded answer ↔ one exchange: read retries have their own unit tests (tests/platform).
  return createPlatformClient(facility({ organizationId: ORG, authBaseUrl: `${ORIGIN}/oauth2/v1`, fhirBaseUrl: `${ORIGIN}${FHIR_BASE}` }), { limiter, now: clock.now, readRetries: 0 });
}

function requestBundle(types: string[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: types.map((t, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: { resourceType: t } as Resource, request: { method: 'POST', url: t } })),
  };
}

async function drive(d: Drive, client: SatusehatClient, rec: Recording, exp: Expectation): Promise<unknown> {
  switch (d.op) {
    case 'token': return client.tokens.get();
    case 'createPatient': return client.createPatient(d.via === 'nik' ? patientByNik : newborn);
    case 'create': return client.createResource({ resourceType: d.type } as Resource);
    case 'transaction': return client.transaction(requestBundle(d.types)).then(idsFromTransactionResponse);
    case 'update': return client.update({ resourceType: d.type, id: d.id } as Resource & { id: string });
    case 'read': return client.read(d.type, d.id);
    case 'search': return client.search(d.type, d.params);
    case 'findPatientByNik': return client.findPatientByNik(d.nik);
    case 'findPatientsByMotherNik': return client.findPatientsByMotherNik(d.nik);
    case 'findPractitionerByNik': return client.findPractitionerByNik(d.nik);
    case 'findLocation': return client.findLocation(d.code);
    case 'classify': throw errorFromResponse(statusOf(rec, exp), rec.body, new Headers(sendableHeaders(rec.headers)));
  }
}

const SEVERITIES = ['fatal', 'error', 'warning', 'information'];

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());

describe('every recording has an expectation', () => {
  it('no file in the corpus is unclassified, no expectation names a file that is gone', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((f) => !files.includes(f))).toEqual([]);
  });
});

describe.each(files)('%s', (file) => {
  const limiters: FacilityLimiter[] = [];
  afterEach(() => {
    nock.abortPendingRequests();
    nock.cleanAll();
    for (const l of limiters.splice(0)) l.close();
  });

  it('is read by the platform client as expected', async () => {
    const exp = EXPECTED[file];
    if (!exp) throw new Error(`${file} has no expectation: classify it in tests/replay/platform-responses.test.ts (EXPECTED)`);
    const rec = load(file);
    const clock = manualClock();
    const client = clientFor(clock, limiters);
    const scopes: nock.Scope[] = [];
    if (exp.drive.op !== 'classify') {
      if (exp.drive.op !== 'token') scopes.push(nock(ORIGIN).post(TOKEN_PATH).query(true).times(exp.times ?? 1).reply(200, tokenBody('TREPLAY', '14399')));
      scopes.push(serve(rec, exp));
    }

    let value: unknown;
    let thrown: unknown;
    try {
      value = await drive(exp.drive, client, rec, exp);
    } catch (e) {
      thrown = e;
    }
    // Whatever the shape, the client answers with a value or a PlatformError carrying a valid OperationOutcome: no crash.
    if (thrown !== undefined) {
      expect(thrown).toBeInstanceOf(PlatformError);
      const err = thrown as PlatformError;
      expect(err.outcome.resourceType).toBe('OperationOutcome');
      expect(err.outcome.issue.length).toBeGreaterThan(0);
      for (const i of err.outcome.issue) expect(SEVERITIES).toContain(i.severity);
    }
    for (const s of scopes) expect(s.isDone()).toBe(true); // the recorded request was the one made

    const x = exp.expect;
    if ('error' in x) {
      expect(thrown).toBeInstanceOf(PlatformError);
      const err = thrown as PlatformError;
      expect(err.kind).toBe(x.error);
      if (x.status !== undefined) expect(err.status).toBe(x.status);
      if (x.rules) expect(err.rules).toEqual(x.rules);
      if (x.reason) expect(err.reason).toBe(x.reason);
      else expect(err.reason).toBeUndefined();
      if (x.reason?.startsWith('search-')) expect(err.outcome.issue[0].code).toBe('incomplete');
      if (x.retryAfterMs !== undefined) expect(err.retryAfterMs).toBe(x.retryAfterMs);
      if (x.text) expect(err.outcome.issue.map((i) => `${i.details?.text ?? ''} ${i.diagnostics ?? ''}`).join('\n')).toMatch(x.text);
      return;
    }
    if (thrown !== undefined) throw thrown;
    if ('patient' in x) expect(value).toEqual(x.patient);
    else if ('created' in x) expect(value).toEqual(x.created);
    else if ('transaction' in x) expect((value as Array<Record<string, unknown>>).map(({ resourceType, id, versionId }) => ({ resourceType, id, versionId }))).toEqual(x.transaction);
    else if ('resource' in x) expect(value).toMatchObject(x.resource);
    else if ('found' in x) expect(value).toEqual(x.found);
    else if ('resources' in x) {
      const list = value as Resource[];
      expect(list).toHaveLength(x.resources.count);
      for (const r of list) expect(r.resourceType).toBe(x.resources.resourceType);
      if (x.resources.first) expect(list[0].id).toBe(x.resources.first);
    } else if ('tokenLifetimeS' in x) {
      expect(typeof value).toBe('string');
      expect(client.tokens.state()).toEqual({ state: 'valid', expiresAt: clock.now() + x.tokenLifetimeS * 1000 });
    }
  });
});
