// Stand-in for the async Store contract of issue 11 §1, which another branch is turning types.ts into: the same methods
// as today's Store, each returning a Promise, and the outcomes fenced by a Claim. The PostgreSQL store is written
// against this copy; once the async types.ts lands, this file goes and postgres.ts imports from './types.js'.
import type { OperationOutcome } from 'fhir/r4.js';
import type {
  ApiKeyImport, ApiKeyRow, BodyKeyCounts, Counts, ReencryptBatch, RetentionCutoffs, RetentionPreview, RetentionResult, DueSplit, EarlierWeighing, FacilityFacts, FacilityState, IdentityEntry, IngestItem, IngestStatus,
  LedgerEntry, RejectionEntry, RejectionListFilter, StoredRejection, VisitEvent, VisitListFilter, VisitRow, VisitSummary,
} from './types.js';

export * from './types.js';

/** Who holds a claimed record. Every outcome is fenced by it: a claimer whose lease was taken over cannot record over the new owner. */
export interface Claim {
  organizationId: string;
  visitId: string;
  revision: number;
  /** Increases by one on every claim of this visit, over all revisions, never reset: the fence. */
  claimSeq: number;
}

export interface ClaimedVisit extends VisitRow {
  claim: Claim;
  /** claimSeq > 1: an earlier attempt (any revision) may have reached the platform — answered by the column, not by the pruned history. */
  claimedBefore: boolean;
}

/** today's Store (types.ts), every method returning a Promise, with fenced claims. */
export interface Store {
  ingest(items: IngestItem[], now: number): Promise<IngestStatus[]>;
  getVisit(organizationId: string, visitId: string): Promise<VisitRow | undefined>;
  facilitiesWithDueWork(now: number): Promise<string[]>;
  claimDue(organizationId: string, now: number, limit: number, leaseMs: number): Promise<ClaimedVisit[]>;
  /** Only while state='sending' and claim_seq/revision match. */
  renewLease(claim: Claim, leaseUntil: number): Promise<boolean>;
  markSent(claim: Claim, resourceIds: Record<string, string>, now: number): Promise<boolean>;
  markRetry(claim: Claim, nextAttemptAt: number, error: OperationOutcome, now: number, opts?: { refundAttempt?: boolean }): Promise<boolean>;
  markFinal(claim: Claim, state: 'needs-correction' | 'blocked' | 'dead-letter', error: OperationOutcome, now: number): Promise<boolean>;
  requeue(organizationId: string, visitId: string, now: number): Promise<boolean>;
  counts(organizationId?: string): Promise<Counts>;
  listVisits(filter: VisitListFilter): Promise<VisitSummary[]>;
  facilityFacts(organizationId: string): Promise<FacilityFacts>;
  organizations(): Promise<string[]>;
  addRejections(entries: RejectionEntry[]): Promise<void>;
  purgeRejections(before: number, limit: number): Promise<number>;
  listRejections(filter: RejectionListFilter): Promise<StoredRejection[]>;
  pendingCount(organizationId: string): Promise<number>;
  dueSplit(organizationId: string, now: number): Promise<DueSplit>;
  visitHistory?(organizationId: string, visitId: string): Promise<VisitEvent[]>;
  earlierWeighing(organizationId: string, childKey: string, before: string, exceptVisitId: string): Promise<EarlierWeighing | undefined>;
  getLedger(organizationId: string, localKey: string): Promise<LedgerEntry | undefined>;
  putLedger(entries: LedgerEntry[]): Promise<void>;
  ledgerForVisit(organizationId: string, visitId: string): Promise<LedgerEntry[]>;
  forgetPlatformIds(organizationId: string): Promise<{ identities: number; ledger: number }>;
  getIdentity(kind: IdentityEntry['kind'], organizationId: string, keyHash: string): Promise<IdentityEntry | undefined>;
  putIdentity(entry: IdentityEntry): Promise<void>;
  getFacilityState(organizationId: string): Promise<FacilityState | undefined>;
  putFacilityState(state: FacilityState): Promise<void>;
  putApiKey(row: ApiKeyRow): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(): Promise<ApiKeyRow[]>;
  revokeApiKey(keyHash: string, now: number): Promise<boolean>;
  importApiKeys(rows: ApiKeyRow[], now: number): Promise<ApiKeyImport>;
  probeWrite?(now: number): Promise<void>;
  integrityCheck?(maxProblems?: number): Promise<string[]>;
  bodyKeyCounts(): Promise<BodyKeyCounts>;
  hasStaleBodies(): Promise<boolean>;
  reencryptBodies(limit: number, after: number): Promise<ReencryptBatch>;
  retentionPreview(cutoffs: RetentionCutoffs): Promise<RetentionPreview>;
  purgeExpired(cutoffs: RetentionCutoffs, limit: number, now: number): Promise<RetentionResult>;
  compactLog(): Promise<void>;
  close(): Promise<void>;
}
