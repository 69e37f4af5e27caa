// Delivers one visit: resolve identities, map with real ids, send one transaction Bundle holding only what is new
// (POST) or changed (PUT with the id in the body), then record the ids in the ledger and mark the visit sent.
//
// Exactly once at the platform: a transaction is all-or-nothing, but its response can be lost after the platform
// committed (timeout, dropped connection, crash). So before (re)sending anything new for a visit that may have
// been sent before — a later attempt, a later revision, or a 20002 duplicate — we search by the Encounter's
// identifier and adopt what exists (with its Observations, Immunizations and Conditions) into the ledger first. Those
// searches use documented parameters only and their answers are verified, never trusted (verified-search.ts).
//
// Corrections: a revision that no longer produces an Observation, Immunization or Condition the ledger holds (the first
// version had a mistaken entry) retracts it in the same transaction: read back from the platform, PUT marked entered-in-error
// (retraction.ts: status, or a Condition's verificationStatus), and the ledger entry marked RETRACTED_HASH so it is not
// retracted twice. The Encounter is never retracted.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import type { FacilityConfig, PlatformClient } from '../platform/types.js';
import { PlatformError } from '../platform/types.js';
import { RETRACTED_HASH, visitLedgerPrefix, type ClaimedVisit, type EarlierWeighing, type LedgerEntry, type Store, type VisitRow } from '../store/types.js';
import { deterministicUuid } from '../mapping/uuid.js';
import { hasErrors, toOperationOutcome, type Issue } from '../validation/outcome.js';
import type { Logger } from '../util/logger.js';
import type { MappedEntry, MappingApi, ValidatorApi, VisitRecordLike } from './contracts.js';
import { resourceHash } from './hash.js';
import type { IdentityResolver } from './identity.js';
import { LocalValidationError } from './policy.js';
import { explainOutcome } from './explain.js';
import { scrubOutcome } from './scrub.js';
import { byIdentifier, byReference, refersTo, verifiedSearch, type Criterion } from './verified-search.js';
import { isRetracted, markRetracted, RETRACTABLE_TYPES } from './retraction.js';

export const ENCOUNTER_SYSTEM = (org: string) => `http://sys-ids.kemkes.go.id/encounter/${org}`;

export interface FacilityRuntime {
  config: FacilityConfig;
  client: PlatformClient;
}

export interface DeliveryDeps<Tables = unknown> {
  store: Store;
  mapping: MappingApi<Tables>;
  tables: Tables;
  validator: ValidatorApi;
  identity: IdentityResolver;
  now: () => number;
  logger: Logger;
  /** Parses `response.location` of a transaction-response: one {resourceType, id} per entry, in order. */
  idsFromTransactionResponse: (bundle: Bundle) => Array<{ resourceType?: string | undefined; id?: string | undefined }>;
  /** The same child's latest earlier weighing held by the store (weight-gain status); absent ⇒ none is looked up. */
  earlierWeighing?: (record: VisitRecordLike) => Promise<EarlierWeighing | undefined>;
}

export interface DeliveryResult {
  resourceIds: Record<string, string>;
  /** Entries sent in the final transaction (0 when nothing had changed). */
  sent: number;
  /** Resources found at the platform and adopted instead of being created again. */
  adopted: number;
  /** false when the claim no longer held the row: a newer revision arrived meanwhile (it stays queued), or another claimer took over. */
  marked: boolean;
}

/** The ledger key of one resource of one visit (unique per organization). */
export const ledgerKey = (visitId: string, key: string) => `${visitLedgerPrefix(visitId)}${key}`;

export { RETRACTABLE_TYPES } from './retraction.js';

/** Wraps errors of a sent Bundle so the runner can store an outcome explained in source-field terms. */
export class ExplainedPlatformError extends PlatformError {
  constructor(base: PlatformError, outcome: ReturnType<typeof explainOutcome>) {
    super(base.kind, base.status, outcome, base.rules, base.retryAfterMs);
  }
}

/** An issue's text framed by the stage that found it (`mapping: …`), its message too when it has one. */
function atStage(stage: 'mapping' | 'validation', i: Issue): Pick<Issue, 'diagnostics' | 'message'> {
  const params = { '@stage': `sync.stage.${stage}`, ...(i.message ? { '@problem': i.message.key, ...i.message.params } : { problem: i.diagnostics }) };
  return { diagnostics: `${stage}: ${i.diagnostics}`, message: { key: 'sync.at-stage', params } };
}

function localFailure(issues: Issue[], stage: 'mapping' | 'validation'): LocalValidationError {
  const errs = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return new LocalValidationError(
    toOperationOutcome(errs.map((i) => ({ ...i, ...atStage(stage, i) })), undefined, true),
  );
}

/** Replaces `reference` values found in `map` anywhere in the resource (urn:uuid of an entry not sent → Type/id). */
function rewriteReferences(node: unknown, map: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const v of node) rewriteReferences(v, map);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.reference === 'string' && map.has(o.reference)) o.reference = map.get(o.reference);
  for (const v of Object.values(o)) if (v && typeof v === 'object') rewriteReferences(v, map);
}

const identifierKeys = (r: Resource): string[] =>
  (((r as { identifier?: Array<{ system?: string; value?: string }> }).identifier) ?? [])
    .filter((i) => i.system && i.value)
    .map((i) => `${i.system}|${i.value}`);

/** Immunizations may carry no identifier: vaccine code + dose + date identify one within an Encounter. */
function immunizationSignature(r: Resource): string {
  const im = r as { vaccineCode?: { coding?: Array<{ system?: string; code?: string }> }; protocolApplied?: Array<{ doseNumberPositiveInt?: number }>; occurrenceDateTime?: string };
  const codes = (im.vaccineCode?.coding ?? []).map((c) => `${c.system}|${c.code}`).sort().join(',');
  return `${codes}#${im.protocolApplied?.[0]?.doseNumberPositiveInt ?? ''}#${im.occurrenceDateTime ?? ''}`;
}

export async function deliverVisit<Tables>(row: ClaimedVisit, facility: FacilityRuntime, deps: DeliveryDeps<Tables>): Promise<DeliveryResult> {
  const { store, mapping, tables, validator, identity, logger } = deps;
  const record = row.record as VisitRecordLike;
  const org = row.organizationId;
  const now = new Date(deps.now());
  const client = facility.client;

  // 1. Identities (cached; may throw BlockedError / PlatformError).
  const resolved = await identity.resolve({
    record,
    client,
    facility: facility.config,
    patientToCreate: () => mapping.mapVisit(record, tables, { now }).patient,
  });

  // 2. Map with real references and validate what we are about to send (tables may have changed since ingest).
  const held = await deps.earlierWeighing?.(record);
  const previousWeighing = held && { date: held.measuredOn, weightKg: held.weightGrams / 1000, from: { key: 'source.growth.gain.from.held', params: { visitId: held.visitId } } };
  const mapped = mapping.mapVisit(record, tables, { now, resolved, ...(previousWeighing ? { previousWeighing } : {}) });
  if (hasErrors(mapped.issues) || !mapped.entries.length) throw localFailure(mapped.issues, 'mapping');
  if (mapped.bundle) {
    const issues = validator.validate(mapped.bundle, { now, organizationId: org });
    if (hasErrors(issues)) throw localFailure(issues, 'validation');
  }
  const entries = mapped.entries.filter((e) => e.resource.resourceType !== 'Patient');

  // 3. Exactly once: adopt what a lost attempt may have created before sending anything new.
  let adopted = 0;
  // claimedBefore: `attempts` restarts at 1 after an operator's requeue, yet an attempt before it may have committed with
  // its response lost (the staging platform does not reliably answer 20002 to a second Encounter).
  const mayHaveBeenSent = row.attempts > 1 || row.revision > 1 || row.claimedBefore;
  if (mayHaveBeenSent && await someUnrecorded(store, org, row.visitId, entries)) {
    adopted = await adoptExisting(row, entries, client, deps);
  }

  try {
    return await sendChanges(row, entries, record, client, deps, adopted);
  } catch (e) {
    if (!(e instanceof PlatformError) || e.kind !== 'duplicate') throw e;
    // 20002: the platform already has this Encounter (a lost response we could not see). Adopt it and send the rest once.
    logger.warn({ org, visit: row.visitId, rules: e.rules }, 'platform reported a duplicate; adopting existing resources');
    const found = await reconcile(row, entries, client, deps);
    adopted += found.adopted;
    try {
      return await sendChanges(row, entries, record, client, deps, adopted);
    } catch (again) {
      if (!(again instanceof PlatformError) || again.kind !== 'duplicate' || found.encounterFound) throw again;
      throw unseenDuplicate(again, row);
    }
  }
}

/** Marks (in lastError) an attempt that met a 20002 its identifier search could not see; PII-free, matched by prefix. */
export const UNSEEN_DUPLICATE_NOTE = 'SATUSEHAT reports a duplicate (RuleNumber: 20002) that the identifier search does not return';

const hasUnseenDuplicateNote = (row: VisitRow) =>
  (row.lastError?.issue ?? []).some((i) => typeof i.diagnostics === 'string' && i.diagnostics.startsWith(UNSEEN_DUPLICATE_NOTE));

/**
 * A second 20002 right after a search that found no Encounter: the platform's search may lag its duplicate check,
 * so the first time it is transient (backoff, the next attempt searches again and adopts); only when a later attempt
 * meets it again does a human have to look (needs-correction).
 */
function unseenDuplicate(err: PlatformError, row: VisitRow): PlatformError {
  const issues = err.outcome.issue ?? [];
  if (!hasUnseenDuplicateNote(row)) {
    return new PlatformError('transient', err.status, {
      ...err.outcome,
      // First, so it survives the truncation of long outcomes and the next attempt finds it.
      issue: [{ severity: 'error', code: 'transient', diagnostics: `${UNSEEN_DUPLICATE_NOTE} (search lag at the platform?); will retry and search again` }, ...issues],
    }, err.rules);
  }
  return new PlatformError('duplicate', err.status, {
    ...err.outcome,
    issue: [{
      severity: 'error', code: 'duplicate',
      diagnostics: `${UNSEEN_DUPLICATE_NOTE}, again on a later attempt: check this visit's Encounter identifier at SATUSEHAT before requeueing`,
    }, ...issues],
  }, err.rules);
}

/** Whether the ledger misses any of these entries. */
async function someUnrecorded(store: Store, org: string, visitId: string, entries: MappedEntry[]): Promise<boolean> {
  for (const e of entries) if (!(await store.getLedger(org, ledgerKey(visitId, e.key)))) return true;
  return false;
}

async function sendChanges<Tables>(
  row: ClaimedVisit,
  entries: MappedEntry[],
  record: VisitRecordLike,
  client: PlatformClient,
  deps: DeliveryDeps<Tables>,
  adopted: number,
): Promise<DeliveryResult> {
  const { store } = deps;
  const org = row.organizationId;
  const resourceIds: Record<string, string> = {};
  const known = new Map<string, string>(); // fullUrl → Type/id of resources the platform already has
  const plan: Array<{ entry: MappedEntry; hash: string; existingId?: string }> = [];

  for (const e of entries) {
    const type = e.resource.resourceType;
    const ledger = await store.getLedger(org, ledgerKey(row.visitId, e.key));
    const hash = resourceHash(e.resource);
    if (ledger) {
      known.set(e.fullUrl, `${type}/${ledger.satusehatId}`);
      resourceIds[e.key] = `${type}/${ledger.satusehatId}`;
      if (ledger.contentHash === hash) continue; // unchanged: not sent again
      plan.push({ entry: e, hash, existingId: ledger.satusehatId });
    } else {
      plan.push({ entry: e, hash });
    }
  }

  const retractions = await planRetractions(row, entries, client, deps);

  if (plan.length === 0 && retractions.length === 0) {
    const marked = await store.markSent(row.claim, resourceIds, deps.now());
    return { resourceIds, sent: 0, adopted, marked };
  }

  const bundleEntries: BundleEntry[] = plan.map(({ entry, existingId }) => {
    const resource = structuredClone(entry.resource) as Resource;
    rewriteReferences(resource, known);
    const type = resource.resourceType;
    if (existingId) {
      resource.id = existingId;
      return { fullUrl: entry.fullUrl, resource, request: { method: 'PUT', url: `${type}/${existingId}` } };
    }
    return { fullUrl: entry.fullUrl, resource, request: { method: 'POST', url: type } };
  });
  for (const r of retractions) {
    bundleEntries.push({
      fullUrl: `urn:uuid:${deterministicUuid(org, row.visitId, r.ledger.localKey, 'retraction')}`,
      resource: r.resource,
      request: { method: 'PUT', url: `${r.ledger.resourceType}/${r.ledger.satusehatId}` },
    });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: bundleEntries };
  const sentKeys = plan.map((p) => p.entry.key);
  const sentTypes = plan.map((p) => p.entry.resource.resourceType);
  const allTypes = [...sentTypes, ...retractions.map((r) => r.ledger.resourceType)];

  let response: Bundle;
  try {
    response = await client.transaction(bundle);
  } catch (e) {
    if (e instanceof PlatformError) {
      // Retraction entries have no source field: an empty key leaves their issues unexplained rather than misattributed.
      const keys = [...sentKeys, ...retractions.map(() => '')];
      throw new ExplainedPlatformError(e, explainOutcome(scrubOutcome(e.outcome, record), keys, allTypes, record));
    }
    throw e;
  }

  const ids = deps.idsFromTransactionResponse(response);
  if (ids.length !== allTypes.length || ids.some((x, i) => !x.id || x.resourceType !== allTypes[i])) {
    // Committed, but we cannot tell which id is which: the next attempt reconciles by identifier search
    // (a retraction sent again is harmless: it reads the resource back first and finds it entered-in-error).
    throw new PlatformError('transient', undefined, toOperationOutcome([
      { severity: 'error', code: 'processing', diagnostics: `The transaction-response did not carry one location per entry (${ids.length} for ${allTypes.length}); will reconcile by identifier on the next attempt` },
    ]));
  }
  const at = deps.now();
  const ledger: LedgerEntry[] = plan.map((p, i) => ({
    organizationId: org,
    localKey: ledgerKey(row.visitId, p.entry.key),
    resourceType: sentTypes[i]!,
    satusehatId: ids[i]!.id!,
    contentHash: p.hash,
    updatedAt: at,
  }));
  const retracted: LedgerEntry[] = retractions.map((r) => ({ ...r.ledger, contentHash: RETRACTED_HASH, updatedAt: at }));
  // The ledger first: if we crash before markSent, the next attempt finds every id here and sends nothing.
  await store.putLedger([...ledger, ...retracted]);
  for (const l of ledger) resourceIds[sentKeys[ledger.indexOf(l)]!] = `${l.resourceType}/${l.satusehatId}`;
  const marked = await store.markSent(row.claim, orderLike(entries, resourceIds), at);
  if (retracted.length) deps.logger.info({ org, visit: row.visitId, retracted: retracted.length }, 'retracted resources a revision no longer produces (entered-in-error)');
  return { resourceIds, sent: plan.length + retractions.length, adopted, marked };
}

interface Retraction {
  ledger: LedgerEntry;
  /** The resource as the platform holds it, status set to entered-in-error (id in the body). */
  resource: Resource;
}

/**
 * Ledger entries of this visit (Observation/Immunization/Condition) that the current mapping no longer produces and that are not
 * retracted yet: each is read back from the platform and returned ready to PUT as entered-in-error. One the platform no
 * longer has, or already holds as entered-in-error, needs no request: it is marked retracted right away.
 */
async function planRetractions<Tables>(row: VisitRow, entries: MappedEntry[], client: PlatformClient, deps: DeliveryDeps<Tables>): Promise<Retraction[]> {
  const org = row.organizationId;
  const current = new Set(entries.map((e) => ledgerKey(row.visitId, e.key)));
  const stale = (await deps.store.ledgerForVisit(org, row.visitId))
    .filter((l) => !current.has(l.localKey) && RETRACTABLE_TYPES.has(l.resourceType) && l.contentHash !== RETRACTED_HASH);
  const out: Retraction[] = [];
  const nothingToSend: LedgerEntry[] = [];
  for (const l of stale) {
    let found: Resource;
    try {
      found = await client.read(l.resourceType, l.satusehatId);
    } catch (e) {
      if (e instanceof PlatformError && e.kind === 'not-found') {
        deps.logger.warn({ org, visit: row.visitId, resourceType: l.resourceType }, 'a resource to retract is not at the platform; nothing to retract');
        nothingToSend.push(l);
        continue;
      }
      throw e;
    }
    if (isRetracted(found)) {
      nothingToSend.push(l); // retracted by an attempt whose response was lost
      continue;
    }
    const resource = structuredClone(found) as Resource;
    markRetracted(resource);
    resource.id = l.satusehatId;
    if (resource.meta) {
      // The platform sets version and timestamp; sending the old ones back could read as a conditional update.
      const { versionId: _v, lastUpdated: _u, ...meta } = resource.meta;
      if (Object.keys(meta).length) resource.meta = meta;
      else delete resource.meta;
    }
    out.push({ ledger: l, resource });
  }
  if (nothingToSend.length) await deps.store.putLedger(nothingToSend.map((l) => ({ ...l, contentHash: RETRACTED_HASH, updatedAt: deps.now() })));
  return out;
}

function orderLike(entries: MappedEntry[], ids: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) if (ids[e.key]) out[e.key] = ids[e.key]!;
  return out;
}

/**
 * Searches the platform for this visit's resources by identifier and writes what it finds into the ledger with an
 * empty content hash, so they are PUT (never POSTed again) with our current content. Returns how many were adopted.
 */
export async function adoptExisting<Tables>(row: VisitRow, entries: MappedEntry[], client: PlatformClient, deps: DeliveryDeps<Tables>): Promise<number> {
  return (await reconcile(row, entries, client, deps)).adopted;
}

/**
 * How a visit's child resources are found at the platform with documented search parameters only, and which of the
 * (verified) answers belong to this visit: Immunization is searchable by patient only, so this visit's are picked by
 * their encounter reference.
 */
const CHILD_SEARCHES: ReadonlyMap<string, (patientId: string, encounterId: string) => { criteria: Criterion[]; mine: (r: Resource) => boolean }> = new Map([
  ['Observation', (p: string, e: string) => ({ criteria: [byReference('subject', 'Patient', p), byReference('encounter', 'Encounter', e)], mine: () => true })],
  ['Condition', (p: string, e: string) => ({ criteria: [byReference('subject', 'Patient', p), byReference('encounter', 'Encounter', e)], mine: () => true })],
  ['Immunization', (p: string, e: string) => ({
    criteria: [byReference('patient', 'Patient', p)],
    mine: (r: Resource) => refersTo((r as { encounter?: { reference?: string } }).encounter?.reference, 'Encounter', e),
  })],
]);

/** The visit's patient id as the mapped entries reference it (`Patient/{IHS}` once identities are resolved). */
function patientIdOf(entries: MappedEntry[]): string | undefined {
  const ref = (entries.find((e) => e.resource.resourceType === 'Encounter')?.resource as { subject?: { reference?: string } } | undefined)?.subject?.reference;
  const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref ?? '');
  return m?.[1];
}

/** adoptExisting, also telling whether the platform returned an Encounter for the visit at all. */
async function reconcile<Tables>(
  row: VisitRow, entries: MappedEntry[], client: PlatformClient, deps: DeliveryDeps<Tables>,
): Promise<{ adopted: number; encounterFound: boolean }> {
  const org = row.organizationId;
  const encounters = await verifiedSearch(client, 'Encounter', [byIdentifier(ENCOUNTER_SYSTEM(org), row.visitId)]);
  if (!encounters.length) return { adopted: 0, encounterFound: false }; // the transaction never committed: nothing else can exist either
  if (encounters.length > 1) {
    deps.logger.error({ org, visit: row.visitId, count: encounters.length }, 'more than one Encounter exists at the platform for this visit; adopting the first');
  }
  const encounterId = encounters[0]!.id!;
  const adoptions: LedgerEntry[] = [];
  const at = deps.now();
  const adopt = (e: MappedEntry, id: string) =>
    adoptions.push({ organizationId: org, localKey: ledgerKey(row.visitId, e.key), resourceType: e.resource.resourceType, satusehatId: id, contentHash: '', updatedAt: at });

  const byType = new Map<string, MappedEntry[]>();
  for (const e of entries) {
    const t = e.resource.resourceType;
    if (!byType.has(t)) byType.set(t, []);
    byType.get(t)!.push(e);
  }
  for (const e of byType.get('Encounter') ?? []) {
    if (!(await deps.store.getLedger(org, ledgerKey(row.visitId, e.key)))) adopt(e, encounterId);
  }
  const patientId = patientIdOf(entries);
  for (const [type, search] of CHILD_SEARCHES) {
    const missing: MappedEntry[] = [];
    for (const e of byType.get(type) ?? []) if (!(await deps.store.getLedger(org, ledgerKey(row.visitId, e.key)))) missing.push(e);
    if (!missing.length) continue;
    // Without the patient's id no documented search can find them: unknown, so nothing may be POSTed again.
    if (!patientId) {
      throw new PlatformError('transient', undefined, toOperationOutcome([
        { severity: 'error', code: 'incomplete', diagnostics: `Cannot look for this visit's ${type} resources at the platform: the Encounter carries no Patient id; will try again` },
      ]));
    }
    const { criteria, mine } = search(patientId, encounterId);
    const existing = (await verifiedSearch(client, type, criteria)).filter(mine);
    const taken = new Set<string>();
    for (const e of missing) {
      const ids = new Set(identifierKeys(e.resource));
      let match = existing.find((r) => !taken.has(r.id!) && identifierKeys(r).some((k) => ids.has(k)));
      if (!match && type === 'Immunization' && ids.size === 0) {
        const sig = immunizationSignature(e.resource);
        match = existing.find((r) => !taken.has(r.id!) && immunizationSignature(r) === sig);
      }
      if (match?.id) {
        taken.add(match.id);
        adopt(e, match.id);
      }
    }
  }
  if (adoptions.length) await deps.store.putLedger(adoptions);
  deps.logger.info({ org, visit: row.visitId, adopted: adoptions.length }, 'reconciled visit with the platform by identifier');
  return { adopted: adoptions.length, encounterFound: true };
}
