// Carries out a delivery plan: builds the one transaction Bundle (POSTs, PUTs with the id in the body, retractions),
// sends it, and records what the platform committed — the ledger first, then the visit marked sent.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../platform/types.js';
import { RETRACTED_HASH, type ClaimedVisit, type LedgerEntry, type LedgerStore, type OutboxStore } from '../../store/types.js';
import { deterministicUuid } from '../../mapping/uuid.js';
import { toOperationOutcome } from '../../validation/outcome.js';
import { messageIssue } from '../../i18n/issues.js';
import type { Logger } from '../../util/logger.js';
import type { MappedEntry, VisitRecordLike } from '../contracts.js';
import { explainOutcome } from '../explain.js';
import { scrubOutcome } from '../scrub.js';
import { ledgerKey, type DeliveryPlan } from './plan.js';
import type { Retraction } from './retract.js';

export interface ExecuteDeps {
  store: Pick<LedgerStore, 'putLedger'> & Pick<OutboxStore, 'markSent'>;
  now: () => number;
  logger: Logger;
  /** Parses `response.location` of a transaction-response: one {resourceType, id} per entry, in order. */
  idsFromTransactionResponse: (bundle: Bundle) => Array<{ resourceType?: string | undefined; id?: string | undefined }>;
}

export interface Executed {
  resourceIds: Record<string, string>;
  /** Entries sent in the transaction (0 when nothing had changed). */
  sent: number;
  /** false when the claim no longer held the row (see markSent). */
  marked: boolean;
}

/** Replaces `reference` values found in `map` anywhere in the resource (urn:uuid of an entry not sent → Type/id). */
function rewriteReferences(node: unknown, map: ReadonlyMap<string, string>): void {
  if (Array.isArray(node)) {
    for (const v of node) rewriteReferences(v, map);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.reference === 'string' && map.has(o.reference)) o.reference = map.get(o.reference);
  for (const v of Object.values(o)) if (v && typeof v === 'object') rewriteReferences(v, map);
}

/** The transaction Bundle of a plan: its writes in entry order, then its retractions. */
export function transactionOf(organizationId: string, visitId: string, plan: DeliveryPlan, retractions: readonly Retraction[]): Bundle {
  const entry: BundleEntry[] = plan.writes.map(({ entry: e, method, existingId }) => {
    const resource = structuredClone(e.resource) as Resource;
    rewriteReferences(resource, plan.known);
    const type = resource.resourceType;
    if (method === 'PUT') {
      resource.id = existingId!;
      return { fullUrl: e.fullUrl, resource, request: { method: 'PUT', url: `${type}/${existingId}` } };
    }
    return { fullUrl: e.fullUrl, resource, request: { method: 'POST', url: type } };
  });
  for (const r of retractions) {
    entry.push({
      fullUrl: `urn:uuid:${deterministicUuid(organizationId, visitId, r.ledger.localKey, 'retraction')}`,
      resource: r.resource,
      request: { method: 'PUT', url: `${r.ledger.resourceType}/${r.ledger.satusehatId}` },
    });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

function orderLike(entries: readonly MappedEntry[], ids: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) if (ids[e.key]) out[e.key] = ids[e.key]!;
  return out;
}

export async function executePlan(
  row: ClaimedVisit,
  entries: readonly MappedEntry[],
  plan: DeliveryPlan,
  retractions: readonly Retraction[],
  record: VisitRecordLike,
  client: PlatformClient,
  deps: ExecuteDeps,
): Promise<Executed> {
  const { store } = deps;
  const org = row.organizationId;
  const resourceIds = { ...plan.resourceIds };
  if (plan.writes.length === 0 && retractions.length === 0) {
    return { resourceIds, sent: 0, marked: await store.markSent(row.claim, resourceIds, deps.now()) };
  }

  const sentKeys = plan.writes.map((w) => w.entry.key);
  const sentTypes = plan.writes.map((w) => w.entry.resource.resourceType);
  const allTypes = [...sentTypes, ...retractions.map((r) => r.ledger.resourceType)];
  let response: Bundle;
  try {
    response = await client.transaction(transactionOf(org, row.visitId, plan, retractions));
  } catch (e) {
    if (e instanceof PlatformError) {
      // Retraction entries have no source field: an empty key leaves their issues unexplained rather than misattributed.
      const keys = [...sentKeys, ...retractions.map(() => '')];
      // Kind, status, rules and wait kept; the reason is not carried over (as before the split: the retry policy sees a plain transient).
      throw new PlatformError(e.kind, e.status, explainOutcome(scrubOutcome(e.outcome, record), keys, allTypes, record), e.rules, e.retryAfterMs);
    }
    throw e;
  }

  const ids = deps.idsFromTransactionResponse(response);
  if (ids.length !== allTypes.length || ids.some((x, i) => !x.id || x.resourceType !== allTypes[i])) {
    // Committed, but we cannot tell which id is which: the next attempt reconciles by identifier search
    // (a retraction sent again is harmless: it reads the resource back first and finds it entered-in-error).
    throw new PlatformError('transient', undefined, toOperationOutcome([
      messageIssue('error', 'processing', 'sync.response-locations', { got: ids.length, expected: allTypes.length }),
    ], undefined, true));
  }
  const at = deps.now();
  const ledger: LedgerEntry[] = plan.writes.map((w, i) => ({
    organizationId: org,
    localKey: ledgerKey(row.visitId, w.entry.key),
    resourceType: sentTypes[i]!,
    satusehatId: ids[i]!.id!,
    contentHash: w.hash,
    updatedAt: at,
  }));
  const retracted: LedgerEntry[] = retractions.map((r) => ({ ...r.ledger, contentHash: RETRACTED_HASH, updatedAt: at }));
  // The ledger first: if we crash before markSent, the next attempt finds every id here and sends nothing.
  await store.putLedger([...ledger, ...retracted]);
  ledger.forEach((l, i) => {
    resourceIds[sentKeys[i]!] = `${l.resourceType}/${l.satusehatId}`;
  });
  const marked = await store.markSent(row.claim, orderLike(entries, resourceIds), at);
  if (retracted.length) deps.logger.info({ org, visit: row.visitId, retracted: retracted.length }, 'retracted resources a revision no longer produces (entered-in-error)');
  return { resourceIds, sent: plan.writes.length + retractions.length, marked };
}
