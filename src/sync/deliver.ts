// Delivers one visit: the orchestration of the modules in ./delivery/, each with one job —
//   prepare.ts    resolve identities, map with real ids, validate what is about to be sent;
//   plan.ts       PURE: from the mapped entries, the visit's ledger rows and its outbox row, what to create (POST),
//                 update (PUT, id in the body), skip (unchanged), retract, whether to reconcile first, what to adopt;
//   reconcile.ts  identifier searches (verified, never trusted) and adoption after a lost response or a 20002;
//   retract.ts    read back what a revision no longer produces and ready it as entered-in-error;
//   execute.ts    one transaction Bundle, sent; the ids recorded in the ledger, then the visit marked sent.
//
// Exactly once at the platform: a transaction is all-or-nothing, but its response can be lost after the platform
// committed (timeout, dropped connection, crash). So before (re)sending anything new for a visit that may have been sent
// before — a later attempt, a later revision, or a 20002 duplicate — we search by the Encounter's identifier and adopt
// what exists (with its Observations, Immunizations and Conditions) into the ledger first.
//
// Corrections: a revision that no longer produces an Observation, Immunization or Condition the ledger holds retracts it
// in the same transaction (PUT marked entered-in-error, the ledger entry marked RETRACTED_HASH so it is not retracted
// twice). The Encounter is never retracted.
import type { Bundle } from 'fhir/r4.js';
import type { FacilityConfig, PlatformClient } from '../platform/types.js';
import { PlatformError } from '../platform/types.js';
import type { ClaimedVisit, EarlierWeighing, Store } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import type { MappedEntry, MappingApi, ValidatorApi, VisitRecordLike } from './contracts.js';
import type { IdentityResolver } from './identity.js';
import { prepareEntries } from './delivery/prepare.js';
import { mustReconcileFirst, planDelivery } from './delivery/plan.js';
import { reconcile, unseenDuplicate } from './delivery/reconcile.js';
import { prepareRetractions } from './delivery/retract.js';
import { executePlan } from './delivery/execute.js';

export { ledgerKey } from './delivery/plan.js';
export { ENCOUNTER_SYSTEM, LEGACY_UNSEEN_DUPLICATE_TEXT, SYNC_NOTE_SYSTEM, UNSEEN_DUPLICATE_CODE, hasUnseenDuplicateNote } from './delivery/reconcile.js';
export { RETRACTABLE_TYPES } from './retraction.js';

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

const isDuplicate = (e: unknown): e is PlatformError => e instanceof PlatformError && e.kind === 'duplicate';

export async function deliverVisit<Tables>(row: ClaimedVisit, facility: FacilityRuntime, deps: DeliveryDeps<Tables>): Promise<DeliveryResult> {
  const { store, logger } = deps;
  const client = facility.client;
  const entries = await prepareEntries(row, facility, deps);

  let adopted = 0;
  if (mustReconcileFirst(row, entries, await store.ledgerForVisit(row.organizationId, row.visitId))) {
    adopted = (await reconcile(row, entries, client, deps)).adopted;
  }
  try {
    return { ...(await sendChanges(row, entries, client, deps)), adopted };
  } catch (e) {
    if (!isDuplicate(e)) throw e;
    // 20002: the platform already has this Encounter (a lost response we could not see). Adopt it and send the rest once.
    logger.warn({ org: row.organizationId, visit: row.visitId, rules: e.rules }, 'platform reported a duplicate; adopting existing resources');
    const found = await reconcile(row, entries, client, deps);
    adopted += found.adopted;
    try {
      return { ...(await sendChanges(row, entries, client, deps)), adopted };
    } catch (again) {
      if (!isDuplicate(again) || found.encounterFound) throw again;
      throw unseenDuplicate(again, row);
    }
  }
}

/** Plans against the ledger as it is now (after any adoption), readies the retractions, and carries the plan out. */
async function sendChanges<Tables>(row: ClaimedVisit, entries: MappedEntry[], client: PlatformClient, deps: DeliveryDeps<Tables>) {
  const plan = planDelivery(row.visitId, entries, await deps.store.ledgerForVisit(row.organizationId, row.visitId));
  const retractions = await prepareRetractions(row, plan.retract, client, deps);
  return executePlan(row, entries, plan, retractions, row.record as VisitRecordLike, client, deps);
}
