// Read, search, create and update (PUT) of single resources.
import { presentPatient, type SimResult, type SimulatorCore } from '../core.js';
import type { Criterion } from '../fhir-store.js';
import type { SimulatorClient } from '../options.js';
import { SimHttpError, plainIssue, ruleIssue } from '../platform-outcome.js';
import { TYPES, type Json } from '../resource-types.js';

export const FORBIDDEN_TEXT = 'Resource cannot be accessed due to business rule';

export function present(type: string, r: Json): Json {
  return type === 'Patient' ? presentPatient(r) : r;
}

function requireType(type: string): void {
  if (!TYPES[type]) throw new SimHttpError(404, [plainIssue('not-supported', `Resource type ${type} is not supported by the simulator`)]);
}

export function readResource(core: SimulatorCore, type: string, id: string, client: SimulatorClient): SimResult {
  requireType(type);
  const row = core.store.get(type, id);
  if (!row) throw new SimHttpError(404, [ruleIssue('20007', { type, id })]);
  if (TYPES[type].owned && row.owner && row.owner !== client.organizationId) throw new SimHttpError(403, [plainIssue('forbidden', FORBIDDEN_TEXT)]);
  return { status: 200, body: present(type, row.resource), headers: { ETag: `W/"${row.version}"` } };
}

/** Query object from Express (values may be arrays for repeated parameters). Parameters starting with `_` are ignored. */
export function searchResources(core: SimulatorCore, type: string, query: Record<string, unknown>, client: SimulatorClient, fhirBase: string, selfUrl: string): SimResult {
  requireType(type);
  const criteria: Criterion[] = [];
  for (const [param, raw] of Object.entries(query)) {
    if (param.startsWith('_')) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v !== 'string') throw new SimHttpError(400, [plainIssue('invalid', `Search parameter ${param} has an invalid value`)]);
      criteria.push({ param, values: v.split(',') });
    }
  }
  const owned = TYPES[type].owned;
  const rows = core.store
    .search(type, criteria)
    .map((id) => core.store.get(type, id)!)
    .filter((row) => !owned || !row.owner || row.owner === client.organizationId);
  const bundle: Json = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: rows.length,
    link: [{ relation: 'self', url: selfUrl }],
  };
  if (rows.length) {
    bundle.entry = rows.map((row) => ({
      fullUrl: `${fhirBase}/${type}/${row.resource.id}`,
      resource: present(type, row.resource),
      search: { mode: 'match' },
    }));
  }
  return { status: 200, body: bundle };
}

function assertBody(type: string, body: unknown): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SimHttpError(400, [ruleIssue('20005')]);
  const r = body as Json;
  if (r.resourceType !== type) {
    throw new SimHttpError(400, [plainIssue('invalid', `resourceType must be ${type} (got ${typeof r.resourceType === 'string' ? r.resourceType : 'none'})`, `${type}.resourceType`)]);
  }
  return r;
}

function requireWritable(type: string): void {
  requireType(type);
  if (!TYPES[type].genericWrite) throw new SimHttpError(405, [plainIssue('not-supported', `${type} cannot be written through this endpoint`)]);
}

function written(type: string, stored: Json, status: number): SimResult {
  const v = String(stored.meta.versionId);
  return {
    status,
    body: stored,
    headers: { Location: `${type}/${stored.id}/_history/${v}`, ETag: `W/"${v}"`, 'Last-Modified': new Date(stored.meta.lastUpdated.replace('+00:00', 'Z')).toUTCString() },
    committed: true,
  };
}

export function createResource(core: SimulatorCore, type: string, body: unknown, client: SimulatorClient): SimResult {
  requireWritable(type);
  const r = structuredClone(assertBody(type, body));
  r.id = core.newUuid(); // a client-sent id is ignored on create, as on any FHIR server
  const issues = core.checkWrite(type, r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  return written(type, core.commit(type, r, client.organizationId), 201);
}

export function updateResource(core: SimulatorCore, type: string, id: string, body: unknown, client: SimulatorClient): SimResult {
  requireWritable(type);
  const r = structuredClone(assertBody(type, body));
  if (r.id === undefined || r.id === null || r.id === '') throw new SimHttpError(400, [plainIssue('required', 'id is required', `${type}.id`)]);
  if (String(r.id) !== id) throw new SimHttpError(400, [plainIssue('invalid', `id in the body (${String(r.id)}) does not match the URL (${id})`, `${type}.id`)]);
  const row = core.store.get(type, id);
  if (!row) throw new SimHttpError(404, [ruleIssue('20007', { type, id })]);
  if (row.owner && row.owner !== client.organizationId) throw new SimHttpError(403, [plainIssue('forbidden', FORBIDDEN_TEXT)]);
  const issues = core.checkWrite(type, r, { client });
  if (issues.length) throw new SimHttpError(400, issues);
  return written(type, core.commit(type, r, client.organizationId), 200);
}

export { written };
