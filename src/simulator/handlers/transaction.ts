// POST {FHIR base} with a transaction Bundle: all-or-nothing. Everything is checked first; nothing is stored on any error.
// On the first failing entry, every later entry is reported as failed due to previous error (20013 when it refers to the
// failed entry, else 20012). A failure of Google's FHIR store (reference_not_found) is reported alone, as it answers.
import type { SimResult, SimulatorCore } from '../core.js';
import type { SimulatorClient } from '../options.js';
import { SimHttpError, plainIssue, ruleIssue, type PlatformIssue } from '../platform-outcome.js';
import { findReferences } from '../references.js';
import { typeSpec, type Json } from '../resource-types.js';
import { FORBIDDEN_TEXT } from './resources.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface PlannedEntry {
  index: number;
  type: string;
  method: 'POST' | 'PUT';
  id: string;
  /** A PUT to an id the store does not hold yet creates it (upsert). */
  creates: boolean;
  fullUrl: string;
  resource: Json;
}

/** Structural issues of one entry; `plan` gets the entry when it has none. */
function planEntry(core: SimulatorCore, entry: unknown, index: number, seenFullUrls: Set<string>, client: SimulatorClient): PlannedEntry | PlatformIssue[] {
  const at = `Bundle.entry[${index}]`;
  if (!entry || typeof entry !== 'object') return [plainIssue('structure', 'Bundle entry must be an object', at)];
  const e = entry as Json;
  const resource = e.resource as Json | undefined;
  if (!resource || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
    return [plainIssue('required', 'Bundle entry needs a resource with a resourceType', `${at}.resource`)];
  }
  const type = resource.resourceType as string;
  if (type === 'Bundle') return [ruleIssue('20011', {}, `${at}.resource`)];
  const fullUrl = e.fullUrl;
  if (fullUrl === undefined || fullUrl === null || fullUrl === '') return [ruleIssue('20021', { type }, `${at}.fullUrl`)];
  if (typeof fullUrl !== 'string' || !fullUrl.startsWith('urn:uuid')) return [ruleIssue('20018', { type }, `${at}.fullUrl`)];
  if (!fullUrl.startsWith('urn:uuid:')) return [ruleIssue('20017', { type }, `${at}.fullUrl`)];
  if (!UUID_RE.test(fullUrl.slice('urn:uuid:'.length))) return [ruleIssue('20019', { type }, `${at}.fullUrl`)];
  if (seenFullUrls.has(fullUrl)) return [ruleIssue('20020', { type, fullUrl }, `${at}.fullUrl`)];
  seenFullUrls.add(fullUrl);

  const method = e.request?.method;
  const url = e.request?.url;
  if (method !== 'POST' && method !== 'PUT') return [plainIssue('not-supported', 'request.method must be POST or PUT in a transaction', `${at}.request.method`)];
  if (typeof url !== 'string') return [plainIssue('required', 'request.url is required', `${at}.request.url`)];
  if (!typeSpec(type)?.genericWrite) return [plainIssue('not-supported', `${type} cannot be written in a transaction`, `${at}.resource`)];
  const [urlType, urlId, ...rest] = url.replace(/^\//, '').split('?')[0].split('/');
  if (urlType !== type || rest.length) return [plainIssue('invalid', `request.url (${url}) does not match the resource type ${type}`, `${at}.request.url`)];
  let id: string;
  let creates = true;
  if (method === 'POST') {
    if (urlId) return [plainIssue('invalid', 'request.url of a POST must be the resource type only', `${at}.request.url`)];
    id = core.newUuid();
  } else {
    if (!urlId) return [plainIssue('required', 'request.url of a PUT must be Type/id', `${at}.request.url`)];
    if (resource.id === undefined || String(resource.id) !== urlId) return [plainIssue('invalid', 'id is required in the body and must match request.url', `${type}.id`)];
    const row = core.store.get(type, urlId);
    if (row?.owner && row.owner !== client.organizationId) return [plainIssue('forbidden', FORBIDDEN_TEXT, `${at}.request.url`)];
    id = urlId;
    creates = !row;
  }
  return { index, type, method, id, creates, fullUrl, resource: structuredClone(resource) };
}

/** `fhirBase` is the absolute FHIR base the entries' `location` URLs start with (bundle-transaction-response-staging.json). */
export function runTransaction(core: SimulatorCore, body: unknown, client: SimulatorClient, fhirBase: string): SimResult {
  if (!body || typeof body !== 'object' || (body as Json).resourceType !== 'Bundle') {
    throw new SimHttpError(400, [plainIssue('invalid', 'POST to the FHIR base needs a Bundle', 'Bundle')]);
  }
  const bundle = body as Json;
  if (bundle.type !== 'transaction') throw new SimHttpError(400, [plainIssue('not-supported', `Bundle.type ${String(bundle.type)} is not supported; use transaction`, 'Bundle.type')]);
  const entries: unknown[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  if (!entries.length) throw new SimHttpError(400, [plainIssue('required', 'A transaction needs at least one entry', 'Bundle.entry')]);

  // Pass 1: structure, until the first bad entry.
  const plans: PlannedEntry[] = [];
  const seen = new Set<string>();
  let failAt = -1;
  let failIssues: PlatformIssue[] = [];
  for (let i = 0; i < entries.length; i++) {
    const p = planEntry(core, entries[i], i, seen, client);
    if (Array.isArray(p)) {
      failAt = i;
      failIssues = p;
      break;
    }
    plans.push(p);
  }

  // Pass 2: rewrite urn:uuid references to the server ids, then check each planned entry in order.
  const urnTarget = new Map(plans.map((p) => [p.fullUrl, `${p.type}/${p.id}`]));
  const pendingRefs = new Set(urnTarget.values());
  for (const p of plans) {
    for (const ref of findReferences(p.resource)) {
      const target = urnTarget.get(ref.reference);
      if (target) ref.holder.reference = target;
    }
    p.resource.id = p.id;
  }
  const claimed = new Map<string, string>();
  for (const p of plans) {
    if (p.index >= (failAt < 0 ? Infinity : failAt)) break;
    const issues = core.checkWrite(p.type, p.resource, { client, pendingRefs, claimed });
    if (issues.length) {
      failAt = p.index;
      failIssues = issues;
      break;
    }
    core.claimIdentifiers(p.type, p.resource, claimed);
  }

  if (failAt >= 0 && failIssues.every((i) => i.diagnostics !== undefined)) throw new SimHttpError(400, failIssues);
  if (failAt >= 0) {
    const failed = plans.find((p) => p.index === failAt);
    const failedKeys = new Set(failed ? [failed.fullUrl, `${failed.type}/${failed.id}`] : []);
    const later: PlatformIssue[] = [];
    for (let j = failAt + 1; j < entries.length; j++) {
      const e = entries[j] as Json | undefined;
      const type = typeof e?.resource?.resourceType === 'string' ? (e.resource.resourceType as string) : 'Resource';
      const refs = e?.resource && typeof e.resource === 'object' ? findReferences(e.resource as Json).map((r) => r.reference) : [];
      const dependent = refs.some((r) => failedKeys.has(r));
      later.push(ruleIssue(dependent ? '20013' : '20012', { type }, `Bundle.entry[${j}]`));
    }
    throw new SimHttpError(400, [...failIssues, ...later]);
  }

  // Apply: nothing can fail from here, and nothing else runs in between (single-threaded), so the write is atomic.
  // One commit, one version for all entries; each response also names resourceType and resourceID (non-standard, as recorded).
  const stamp = core.newStamp();
  const responses = plans.map((p) => {
    core.commit(p.type, p.resource, client.organizationId, stamp);
    return {
      response: {
        etag: `W/"${stamp.versionId}"`,
        lastModified: stamp.lastUpdated,
        location: `${fhirBase}/${p.type}/${p.id}/_history/${stamp.versionId}`,
        status: p.creates ? '201 Created' : '200 OK',
        resourceType: p.type,
        resourceID: p.id,
      },
    };
  });
  return { status: 200, body: { entry: responses, resourceType: 'Bundle', type: 'transaction-response', total: responses.length }, committed: true };
}
