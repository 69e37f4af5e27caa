// Reconcile: after a response that may have been lost (a later attempt, a later revision, a 20002), search the platform
// for this visit's resources by identifier and adopt what exists into the ledger, with an empty content hash, so they
// are PUT with our current content and never POSTed again. The searches use documented parameters only and their
// answers are verified, never trusted (../verified-search.ts); which found resource is which entry is decided by the
// pure plan (adoptionsFrom).
import type { Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../platform/types.js';
import type { LedgerEntry, LedgerStore, VisitRow } from '../../store/types.js';
import { toOperationOutcome } from '../../validation/outcome.js';
import { messageIssue } from '../../i18n/issues.js';
import type { Logger } from '../../util/logger.js';
import { identifierSystem } from '../../util/systems.js';
import type { MappedEntry } from '../contracts.js';
import { byIdentifier, byReference, refersTo, verifiedSearch, type Criterion } from '../verified-search.js';
import { adoptionsFrom, ledgerKey, patientIdOf, unrecorded } from './plan.js';

export const ENCOUNTER_SYSTEM = (org: string) => identifierSystem('encounter', org);

export interface ReconcileDeps {
  store: Pick<LedgerStore, 'ledgerForVisit' | 'putLedger'>;
  now: () => number;
  logger: Logger;
}

export interface Reconciled {
  adopted: number;
  /** Whether the platform returned an Encounter for the visit at all. */
  encounterFound: boolean;
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

export async function reconcile(row: VisitRow, entries: readonly MappedEntry[], client: PlatformClient, deps: ReconcileDeps): Promise<Reconciled> {
  const org = row.organizationId;
  const encounters = await verifiedSearch(client, 'Encounter', [byIdentifier(ENCOUNTER_SYSTEM(org), row.visitId)]);
  if (!encounters.length) return { adopted: 0, encounterFound: false }; // the transaction never committed: nothing else can exist either
  if (encounters.length > 1) {
    deps.logger.error({ org, visit: row.visitId, count: encounters.length }, 'more than one Encounter exists at the platform for this visit; adopting the first');
  }
  const encounterId = encounters[0]!.id!;
  const missing = unrecorded(row.visitId, entries, await deps.store.ledgerForVisit(org, row.visitId));
  const adoptions: Array<{ entry: MappedEntry; id: string }> = missing
    .filter((e) => e.resource.resourceType === 'Encounter')
    .map((entry) => ({ entry, id: encounterId }));

  const patientId = patientIdOf(entries);
  for (const [type, search] of CHILD_SEARCHES) {
    const ofType = missing.filter((e) => e.resource.resourceType === type);
    if (!ofType.length) continue;
    // Without the patient's id no documented search can find them: unknown, so nothing may be POSTed again.
    if (!patientId) {
      throw new PlatformError('transient', undefined, toOperationOutcome([
        messageIssue('error', 'incomplete', 'sync.reconcile.no-patient', { type }),
      ], undefined, true));
    }
    const { criteria, mine } = search(patientId, encounterId);
    adoptions.push(...adoptionsFrom(ofType, (await verifiedSearch(client, type, criteria)).filter(mine)));
  }
  const at = deps.now();
  const rows: LedgerEntry[] = adoptions.map(({ entry, id }) => ({
    organizationId: org, localKey: ledgerKey(row.visitId, entry.key), resourceType: entry.resource.resourceType, satusehatId: id, contentHash: '', updatedAt: at,
  }));
  if (rows.length) await deps.store.putLedger(rows);
  deps.logger.info({ org, visit: row.visitId, adopted: rows.length }, 'reconciled visit with the platform by identifier');
  return { adopted: rows.length, encounterFound: true };
}

// ---- a 20002 the identifier search cannot see ----

/** Coded issue detail marking (in lastError) an attempt that met a 20002 its identifier search could not see. */
export const SYNC_NOTE_SYSTEM = 'urn:ilp-adapter:sync-note';
export const UNSEEN_DUPLICATE_CODE = 'unseen-duplicate';

/** How rows stored before the coded detail say it: the opening of the English diagnostics (recognised, never written). */
export const LEGACY_UNSEEN_DUPLICATE_TEXT = 'SATUSEHAT reports a duplicate (RuleNumber: 20002) that the identifier search does not return';

/** Whether the visit's last attempt already met a 20002 its search could not see. */
export const hasUnseenDuplicateNote = (row: Pick<VisitRow, 'lastError'>): boolean =>
  (row.lastError?.issue ?? []).some((i) =>
    (i.details?.coding ?? []).some((c) => c.system === SYNC_NOTE_SYSTEM && c.code === UNSEEN_DUPLICATE_CODE) ||
    (typeof i.diagnostics === 'string' && i.diagnostics.startsWith(LEGACY_UNSEEN_DUPLICATE_TEXT)));

/**
 * A second 20002 right after a search that found no Encounter: the platform's search may lag its duplicate check,
 * so the first time it is transient (backoff, the next attempt searches again and adopts); only when a later attempt
 * meets it again does a human have to look (needs-correction).
 */
export function unseenDuplicate(err: PlatformError, row: Pick<VisitRow, 'lastError'>): PlatformError {
  const again = hasUnseenDuplicateNote(row);
  const [note] = toOperationOutcome([
    messageIssue('error', again ? 'duplicate' : 'transient', again ? 'sync.duplicate-unseen.again' : 'sync.duplicate-unseen.first'),
  ], undefined, true).issue;
  note!.details = { coding: [{ system: SYNC_NOTE_SYSTEM, code: UNSEEN_DUPLICATE_CODE }] };
  // First, so it survives the truncation of long outcomes and the next attempt finds it.
  const outcome = { ...err.outcome, issue: [note!, ...(err.outcome.issue ?? [])] };
  return new PlatformError(again ? 'duplicate' : 'transient', err.status, outcome, err.rules);
}
