// Read, search, create and update (PUT) of single resources, answered as the platform was recorded answering.
import { presentPatient, type Behaviour, type SimResult, type SimulatorCore } from '../core.js';
import type { Criterion } from '../fhir-store.js';
import type { SimulatorClient } from '../options.js';
import { SimHttpError, googleIssue, plainIssue, ruleIssue } from '../platform-outcome.js';
import { ownEntry } from '../../util/own.js';
import { PLATFORM_SEARCH_PARAMS, typeSpec, type Json, type TypeSpec } from '../resource-types.js';

export const FORBIDDEN_TEXT = 'Resource cannot be accessed due to business rule';

/** Entries per searchset: the platform answered 100 of 722 matches with no `next` link (README of the recordings, §9). */
export const SEARCH_PAGE_LIMIT = 100;

/** Master data searches carry no `entry.search.mode` (patient/practitioner/location/organization-search-*.json). */
const NO_SEARCH_MODE = new Set(['Patient', 'Practitioner', 'Location', 'Organization']);

/** Where the platform's `Location` header of a single create points: the Google Cloud Healthcare store behind it. */
const GOOGLE_FHIR_STORE = 'https://healthcare.googleapis.com/v1/projects/ilp-simulator/locations/asia-southeast1/datasets/ihs/fhirStores/simulator/fhir';

export function present(type: string, r: Json, patientView: Behaviour['patientSearchView'] = 'full'): Json {
  return type === 'Patient' ? presentPatient(r, patientView) : r;
}

function requireType(type: string): TypeSpec {
  const spec = typeSpec(type);
  if (!spec) throw new SimHttpError(404, [plainIssue('not-supported', `Resource type ${type} is not supported by the simulator`)]);
  return spec;
}

export function readResource(core: SimulatorCore, type: string, id: string, client: SimulatorClient): SimResult {
  const spec = requireType(type);
  const row = core.store.get(type, id);
  if (!row) throw core.notFound(type, id);
  if (spec.owned && row.owner && row.owner !== client.organizationId) throw new SimHttpError(403, [plainIssue('forbidden', FORBIDDEN_TEXT)]);
  return { status: 200, body: present(type, row.resource), headers: { ETag: `W/"${String(row.resource.meta.versionId)}"` } };
}

function invalidQuery(core: SimulatorCore, param: string, why: string): SimHttpError {
  // Recorded diagnostics: `invalid value for query: "name"` (error-400-invalid-query.json); the unsupported wording is ours.
  if (core.recordedErrors) return new SimHttpError(400, [googleIssue('value', 'invalid_query', `${why} for query: "${param}"`)]);
  return new SimHttpError(400, [plainIssue('invalid', `Search parameter ${param}: ${why}`)]);
}

/**
 * Query object from Express (values may be arrays for repeated parameters). Parameters starting with `_`, and those the
 * platform does not honour for the type (mappings/platform-search.json), are dropped as the platform drops them;
 * `strictSearch` answers 400 invalid_query for the latter instead. Location searches are scoped to the caller's org.
 */
export function searchResources(core: SimulatorCore, type: string, query: Record<string, unknown>, client: SimulatorClient, fhirBase: string): SimResult {
  const spec = requireType(type);
  const honoured = PLATFORM_SEARCH_PARAMS.get(type) ?? new Set(Object.keys(spec.params));
  const criteria: Criterion[] = [];
  const kept: [string, string][] = [];
  for (const [param, raw] of Object.entries(query)) {
    if (param.startsWith('_')) continue;
    if (!honoured.has(param) || !ownEntry(spec.params, param)) {
      if (core.behaviour.strictSearch) throw invalidQuery(core, param, 'unsupported parameter');
      continue;
    }
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v !== 'string' || v.trim() === '') throw invalidQuery(core, param, 'invalid value');
      criteria.push({ param, values: v.split(',') });
      kept.push([param, v]);
    }
  }
  if (type === 'Location' && !kept.some(([k, v]) => k === 'organization' && v === client.organizationId)) kept.push(['organization', client.organizationId]);
  const owned = spec.owned;
  const rows = core.store
    .search(type, criteria)
    .map((id) => core.store.get(type, id)!)
    .filter((row) => !owned || !row.owner || row.owner === client.organizationId);
  // The link echoes the kept parameters sorted and re-encoded (`/Patient/?…`), as recorded; identifier values and
  // names are not echoed, so no simulator answer carries a NIK in a URL that a client might log.
  const echoed = kept
    .map(([k, v]) => [k, k === 'identifier' ? `${v.split('|')[0]}|***` : k === 'name' ? '***' : v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const url = `${fhirBase}/${type}/?${new URLSearchParams(echoed as [string, string][]).toString()}`;
  const view = core.behaviour.patientSearchView;
  const bundle: Json = {
    entry: rows.slice(0, SEARCH_PAGE_LIMIT).map((row) => ({
      fullUrl: `${fhirBase}/${type}/${row.resource.id}`,
      resource: present(type, row.resource, view),
      ...(NO_SEARCH_MODE.has(type) ? {} : { search: { mode: 'match' } }),
    })),
    link: ['search', 'first', 'self'].map((relation) => ({ relation, url })),
    resourceType: 'Bundle',
    total: rows.length,
    type: 'searchset',
  };
  return { status: 200, body: bundle };
}

function assertBody(core: SimulatorCore, type: string, body: unknown): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw unparseable(core, 'the body is not a JSON object');
  const r = body as Json;
  if (r.resourceType !== type) {
    throw new SimHttpError(400, [plainIssue('invalid', `resourceType must be ${type} (got ${typeof r.resourceType === 'string' ? r.resourceType : 'none'})`, `${type}.resourceType`)]);
  }
  return r;
}

/** A body that is not a resource: Google's unparseable_resource as recorded, or rule 20005. */
export function unparseable(core: SimulatorCore, why: string): SimHttpError {
  if (core.recordedErrors) return new SimHttpError(400, [googleIssue('structure', 'unparseable_resource', `unable to parse the request body: ${why}`)]);
  return new SimHttpError(400, [ruleIssue('20005')]);
}

function requireWritable(type: string): void {
  if (!requireType(type).genericWrite) throw new SimHttpError(405, [plainIssue('not-supported', `${type} cannot be written through this endpoint`)]);
}

/** Headers of a single write as recorded (encounter-create-201-postman.json): Google store Location, opaque ETag, UTC date. */
function written(type: string, stored: Json, status: number): SimResult {
  const v = String(stored.meta.versionId);
  const lastModified = new Date(String(stored.meta.lastUpdated).replace(/\.(\d{3})\d*\+00:00$/, '.$1Z')).toUTCString().replace(/GMT$/, 'UTC');
  return {
    status,
    body: stored,
    headers: { Location: `${GOOGLE_FHIR_STORE}/${type}/${stored.id}/_history/${v}`, ETag: `W/"${v}"`, 'Last-Modified': lastModified },
    committed: true,
  };
}

export function createResource(core: SimulatorCore, type: string, body: unknown, client: SimulatorClient): SimResult {
  requireWritable(type);
  const r = structuredClone(assertBody(core, type, body));
  r.id = core.newUuid(); // a client-sent id is ignored on create, as on any FHIR server
  const issues = core.checkWrite(type, r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  return written(type, core.commit(type, r, client.organizationId), 201);
}

/** PUT is an upsert, as recorded (diagnostic-report-put-201-postman.json): 201 for a new id, 200 for an existing one. */
export function updateResource(core: SimulatorCore, type: string, id: string, body: unknown, client: SimulatorClient): SimResult {
  requireWritable(type);
  const r = structuredClone(assertBody(core, type, body));
  if (r.id === undefined || r.id === null || r.id === '') throw new SimHttpError(400, [plainIssue('required', 'id is required', `${type}.id`)]);
  if (String(r.id) !== id) throw new SimHttpError(400, [plainIssue('invalid', `id in the body (${String(r.id)}) does not match the URL (${id})`, `${type}.id`)]);
  const row = core.store.get(type, id);
  if (row?.owner && row.owner !== client.organizationId) throw new SimHttpError(403, [plainIssue('forbidden', FORBIDDEN_TEXT)]);
  const issues = core.checkWrite(type, r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  return written(type, core.commit(type, r, client.organizationId), row ? 200 : 201);
}
