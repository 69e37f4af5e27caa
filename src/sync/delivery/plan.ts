// What one delivery of a visit must do, decided from data alone — the mapped entries, the visit's ledger rows and its
// outbox row — without the platform or the store: which resources to create (POST), update (PUT, id in the body),
// skip (unchanged since last sent), retract (a revision no longer produces them), whether to reconcile by identifier
// first, and which resources found at the platform to adopt. The modules beside this one carry it out.
import type { Resource } from 'fhir/r4.js';
import { RETRACTED_HASH, visitLedgerPrefix, type LedgerEntry, type VisitRow } from '../../store/types.js';
import type { MappedEntry } from '../contracts.js';
import { resourceHash } from '../hash.js';
import { RETRACTABLE_TYPES } from '../retraction.js';

/** The ledger key of one resource of one visit (unique per organization). */
export const ledgerKey = (visitId: string, key: string) => `${visitLedgerPrefix(visitId)}${key}`;

/** One resource to send: POST when the platform has none yet, PUT onto the id the ledger holds otherwise. */
export interface PlannedWrite {
  entry: MappedEntry;
  /** Content hash recorded in the ledger once the platform committed it. */
  hash: string;
  method: 'POST' | 'PUT';
  /** The platform's id (PUT only). */
  existingId?: string;
}

export interface DeliveryPlan {
  /** Resources to send, in the order of the mapped entries (the order of the transaction's entries). */
  writes: PlannedWrite[];
  /** Entries the platform holds with this very content: not sent again. */
  skipped: MappedEntry[];
  /** Ledger rows of Observations/Immunizations/Conditions this revision no longer produces and not retracted yet. */
  retract: LedgerEntry[];
  /** fullUrl → `Type/id` of every entry the platform already has (references to entries not sent are rewritten to these). */
  known: Map<string, string>;
  /** Entry key → `Type/id`, for entries whose id is known before sending. */
  resourceIds: Record<string, string>;
}

const byKey = (ledger: readonly LedgerEntry[]): Map<string, LedgerEntry> => new Map(ledger.map((l) => [l.localKey, l]));

/**
 * Whether an earlier attempt may have reached the platform: a later attempt, a later revision, or a visit claimed before
 * (`attempts` restarts at 1 after an operator's requeue, yet an attempt before it may have committed with its response
 * lost — the staging platform does not reliably answer 20002 to a second Encounter).
 */
export const mayHaveBeenSent = (visit: Pick<VisitRow, 'attempts' | 'revision'> & { claimedBefore: boolean }): boolean =>
  visit.attempts > 1 || visit.revision > 1 || visit.claimedBefore;

/** Entries the ledger holds no id for. */
export function unrecorded(visitId: string, entries: readonly MappedEntry[], ledger: readonly LedgerEntry[]): MappedEntry[] {
  const held = byKey(ledger);
  return entries.filter((e) => !held.has(ledgerKey(visitId, e.key)));
}

/** Exactly once: search by identifier and adopt before sending anything new when it may have been sent and the ledger misses some. */
export const mustReconcileFirst = (
  visit: Pick<VisitRow, 'visitId' | 'attempts' | 'revision'> & { claimedBefore: boolean },
  entries: readonly MappedEntry[],
  ledger: readonly LedgerEntry[],
): boolean => mayHaveBeenSent(visit) && unrecorded(visit.visitId, entries, ledger).length > 0;

export function planDelivery(visitId: string, entries: readonly MappedEntry[], ledger: readonly LedgerEntry[]): DeliveryPlan {
  const held = byKey(ledger);
  const plan: DeliveryPlan = { writes: [], skipped: [], retract: [], known: new Map(), resourceIds: {} };
  for (const e of entries) {
    const row = held.get(ledgerKey(visitId, e.key));
    const hash = resourceHash(e.resource);
    if (!row) {
      plan.writes.push({ entry: e, hash, method: 'POST' });
      continue;
    }
    const ref = `${e.resource.resourceType}/${row.satusehatId}`;
    plan.known.set(e.fullUrl, ref);
    plan.resourceIds[e.key] = ref;
    if (row.contentHash === hash) plan.skipped.push(e);
    else plan.writes.push({ entry: e, hash, method: 'PUT', existingId: row.satusehatId });
  }
  const current = new Set(entries.map((e) => ledgerKey(visitId, e.key)));
  plan.retract = ledger.filter((l) => !current.has(l.localKey) && RETRACTABLE_TYPES.has(l.resourceType) && l.contentHash !== RETRACTED_HASH);
  return plan;
}

// ---- adoption: which resources found at the platform are this visit's entries ----

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

/**
 * Pairs entries of one type the ledger misses with resources of that type found at the platform (verified to be this
 * visit's): by a shared identifier, or for an Immunization without one by its signature. Each found resource is adopted
 * at most once; an entry without a match is left to be created.
 */
export function adoptionsFrom(missing: readonly MappedEntry[], found: readonly Resource[]): Array<{ entry: MappedEntry; id: string }> {
  const taken = new Set<string>();
  const out: Array<{ entry: MappedEntry; id: string }> = [];
  for (const e of missing) {
    const ids = new Set(identifierKeys(e.resource));
    let match = found.find((r) => !taken.has(r.id!) && identifierKeys(r).some((k) => ids.has(k)));
    if (!match && e.resource.resourceType === 'Immunization' && ids.size === 0) {
      const sig = immunizationSignature(e.resource);
      match = found.find((r) => !taken.has(r.id!) && immunizationSignature(r) === sig);
    }
    if (match?.id) {
      taken.add(match.id);
      out.push({ entry: e, id: match.id });
    }
  }
  return out;
}

/** The visit's patient id as the mapped entries reference it (`Patient/{IHS}` once identities are resolved). */
export function patientIdOf(entries: readonly MappedEntry[]): string | undefined {
  const ref = (entries.find((e) => e.resource.resourceType === 'Encounter')?.resource as { subject?: { reference?: string } } | undefined)?.subject?.reference;
  const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref ?? '');
  return m?.[1];
}
