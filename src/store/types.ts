// The durable store: outbox (one row per visit record revision), identity/resource ledger, facilities' runtime state, API keys.
// Every method that changes state is one committed transaction: a crash between two calls loses nothing.
// SQL lives only in implementations (SQLite now, PostgreSQL next); sync and api see this interface alone.
import type { MessageRef } from '../validation/outcome.js';
import type { Extension, OperationOutcome } from 'fhir/r4.js';

export type VisitState = 'queued' | 'sending' | 'sent' | 'needs-correction' | 'blocked' | 'dead-letter';

export interface VisitRow {
  organizationId: string;
  visitId: string;
  /** Increases by one each time changed content is accepted; work is always about the latest revision. */
  revision: number;
  /** sha256 of the canonical record JSON; equal hash ⇒ no new work. */
  contentHash: string;
  /** The source record as accepted (parsed JSON); undefined once purged (recordPurgedAt) or when it cannot be opened (recordUnreadable). */
  record: unknown;
  /** Epoch ms when the body was purged under the retention of sent records (the row, its hash and the ledger stay). */
  recordPurgedAt?: number;
  /** Why the body cannot be opened (data key missing, altered body): PII-free, names the key id. */
  recordUnreadable?: string;
  /** The same reason as a catalogue message (store-open.record.*), for the reader's language. */
  recordUnreadableRef?: MessageRef;
  state: VisitState;
  /** Attempts started for the current revision: counted when claimed (so an attempt cut short by a crash still counts); reset by a new revision or requeue. */
  attempts: number;
  /** Epoch ms when the record is next due (queued/retry). */
  nextAttemptAt: number;
  /** Epoch ms until which a claimed record belongs to its claimer (crash recovery: an expired lease is due again). */
  leaseUntil?: number;
  /** Why the record is where it is (needs-correction, blocked, dead-letter, last retry). PII-free. */
  lastError?: OperationOutcome;
  /** SATUSEHAT ids of every resource of the visit once sent: local entry key → "Type/id". */
  resourceIds?: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  sentAt?: number;
}

/** One state change of a visit (audit trail; the SQLite store keeps the latest 50 per visit). PII-free. */
export interface VisitEvent {
  revision: number;
  /** undefined for the first ingest. */
  fromState?: VisitState;
  toState: VisitState;
  at: number;
  attempts: number;
  /** Short PII-free summary of lastError at that point (severity/code: text; ...), in English. */
  error?: string;
  /**
   * The issues `error` summarises, each with its extensions as stored (the catalogue message of urn:ilp-adapter:message),
   * so the entry can be said in the reader's language; absent for entries written before (plain summary only) and when
   * no issue carried an extension (the summary is then the same in every language).
   */
  errorIssues?: EventIssue[];
}

/** One issue of a history entry's error: what the summary says of it, and its extensions. PII-free like the outcome. */
export interface EventIssue {
  severity: string;
  code: string;
  /** details.text, else diagnostics, as the summary shows it. */
  text: string;
  extension?: Extension[];
}

export interface IngestItem {
  organizationId: string;
  visitId: string;
  record: unknown;
  contentHash: string;
  /** The child's weighing at this visit, kept so a later visit can say whether the child gained weight (KMS naik / tidak naik). */
  weighing?: WeighingFact;
}

/** One weighing of a child, keyed by an HMAC of the child's identity (never the NIK itself). */
export interface WeighingFact {
  childKey: string;
  /** Local calendar date of the weighing, YYYY-MM-DD. */
  measuredOn: string;
  weightGrams: number;
}

/** The latest weighing of the same child before a visit, as the store holds it. */
export interface EarlierWeighing {
  visitId: string;
  measuredOn: string;
  weightGrams: number;
}

export type IngestStatus = 'created' | 'revised' | 'unchanged';

export interface LedgerEntry {
  organizationId: string;
  /** Local key of one resource, e.g. `visit/V1/encounter`, `visit/V1/observation/body-weight.1`. */
  localKey: string;
  resourceType: string;
  /** SATUSEHAT id (no type prefix). */
  satusehatId: string;
  /** sha256 of the resource as last sent (without id/meta), or RETRACTED_HASH once retracted at the platform. */
  contentHash: string;
  updatedAt: number;
}

/**
 * contentHash of a ledger entry whose resource was retracted at the platform (PUT with status entered-in-error) because
 * a later revision of the visit no longer produces it. Never equal to a sha256, so the entry is never "unchanged".
 */
export const RETRACTED_HASH = 'retracted';

/**
 * A visitId as it appears inside ledger keys: '/' (allowed in visitIds since contract 2026.12.2, register numbers such as
 * 2026/10/0001) and '%' become %2F / %25, so a visit "2026" never sees the keys of "2026/10/0001", and the keys of every
 * id without those characters (all ids accepted before) are unchanged.
 */
export const ledgerVisitSegment = (visitId: string): string => visitId.replace(/[%/]/g, (c) => (c === '%' ? '%25' : '%2F'));

/** Every ledger key of one visit starts with this (see sync's ledgerKey). */
export const visitLedgerPrefix = (visitId: string): string => `visit/${ledgerVisitSegment(visitId)}/`;

/** Cached identity resolution; `keyHash` is an HMAC of the NIK-based key, never the NIK itself. */
export interface IdentityEntry {
  kind: 'patient' | 'practitioner' | 'location';
  organizationId: string;
  keyHash: string;
  satusehatId: string;
  updatedAt: number;
}

export type FacilityStatus = 'active' | 'paused' | 'auth-failed' | 'config-error';

/**
 * Which check put the facility on hold: `credentials` (token refused), `url` (nothing at the configured URL), `access`
 * (403 / rules 20003, 20004, 10117), `operator` (paused by hand). A passing token probe lifts `credentials` and `url`.
 */
export type FacilityHoldCause = 'credentials' | 'url' | 'access' | 'operator';

export interface FacilityState {
  organizationId: string;
  status: FacilityStatus;
  cause?: FacilityHoldCause;
  /** Why, PII-free (e.g. the platform's auth error text); English when it is ours. */
  reason?: string;
  /** `reason` as a catalogue message when it is ours (messages/facility.json), said in the reader's language; absent for the platform's words. */
  reasonMessage?: MessageRef;
  /** Epoch ms before which no platform call may be made for this facility (auth lockout, Retry-After). */
  notBefore?: number;
  updatedAt: number;
}

export interface ApiKeyRow {
  /** sha256 of the key; the key itself is never stored. */
  keyHash: string;
  /** null for the admin key. */
  organizationId: string | null;
  role: 'facility' | 'admin';
  label?: string;
  /** Where the key came from: `cli` (keys create; also every key stored before schema 6) or `file` (API_KEYS_FILE). */
  source?: ApiKeySource;
  /** Epoch ms when first stored (absent for keys stored before schema 6). */
  createdAt?: number;
  /** Epoch ms when revoked; a revoked key never authenticates again (revocation is final: make a new key). */
  revokedAt?: number;
}

export type ApiKeySource = 'cli' | 'file';

/** What importing API_KEYS_FILE changed. */
export interface ApiKeyImport {
  /** Keys of the file stored or refreshed. */
  imported: number;
  /** Keys imported from the file earlier and no longer in it: revoked now. */
  revoked: number;
  /** Keys listed in the file that were revoked before: they stay revoked. */
  stillRevoked: number;
}

export interface DueSplit {
  dueNow: number;
  later: number;
  /** Epoch ms when the first of `later` comes due. */
  nextDueAt?: number;
}

export interface Counts {
  byState: Record<VisitState, number>;
}

/** Where a page of the visit list ended (keyset: newest first by updatedAt, then organization and visitId descending). */
export interface VisitListPosition {
  updatedAt: number;
  organizationId: string;
  visitId: string;
}

export interface VisitListFilter {
  /** One facility; undefined ⇒ every facility (admin). */
  organizationId?: string;
  states?: readonly VisitState[];
  setting?: string;
  locationCode?: string;
  /** Visit start (epoch ms), from inclusive, to exclusive. */
  from?: number;
  to?: number;
  /** updatedAt ≥ this (epoch ms). */
  updatedSince?: number;
  /** visitId starts with this (case-sensitive). */
  visitIdPrefix?: string;
  /** Rows strictly after this position. */
  after?: VisitListPosition;
  limit: number;
}

/** One row of the visit list: what an operator needs to act, never the record (no NIK, no name). */
export interface VisitSummary {
  organizationId: string;
  visitId: string;
  revision: number;
  state: VisitState;
  attempts: number;
  nextAttemptAt: number;
  updatedAt: number;
  setting?: string;
  locationCode?: string;
  visitStart?: number;
}

/** One issue of a rejected record, as the push response carried it (PII-free by contract). */
export interface RejectionIssue {
  severity: string;
  code: string;
  expression?: string[];
  /** English, as the push answer carried it by default. */
  diagnostics?: string;
  /** Its catalogue message (key and PII-free parameters), so a list can say it in the reader's language; absent in older rows. */
  message?: MessageRef;
}

/** A record refused at push: which facility and visit, when, and why; never the record's content. */
export interface RejectionEntry {
  organizationId: string;
  /** Absent when the record had no well-formed visitId. */
  visitId?: string;
  at: number;
  issues: RejectionIssue[];
}

export interface StoredRejection extends RejectionEntry {
  id: number;
}

export interface RejectionListFilter {
  organizationId?: string;
  /** at ≥ since / at < until (epoch ms). */
  since?: number;
  until?: number;
  visitIdPrefix?: string;
  /** Rows strictly after this position (newest first by at, then id). */
  after?: { at: number; id: number };
  limit: number;
}

/** Delivery facts of one facility beyond its counts. */
export interface FacilityFacts {
  /** createdAt of the oldest record still waiting (queued or sending). */
  oldestWaitingSince?: number;
  lastSentAt?: number;
}

/** Record bodies held per data key id ('plain': written before encryption), and bodies purged by retention. */
export interface BodyKeyCounts {
  byKey: Record<string, number>;
  purged: number;
  /** The key that seals new bodies (absent: bodies are stored plain). */
  currentKeyId?: string;
}

/** One batch of `keys rotate-data`. */
export interface ReencryptBatch {
  reencrypted: number;
  /** Bodies that could not be opened (left as they are; the visit list names them). */
  unreadable: Array<{ organizationId: string; visitId: string; keyId: string; fault: string }>;
  /** true when no row after `next` is left to look at. */
  done: boolean;
  /** Cursor for the next batch (opaque; 0 starts over). */
  next: number;
}

export type RetentionKind = 'sentBodies' | 'visitEvents' | 'rejections';

/** Epoch ms before which each kind expires (bodies by sentAt, history and rejections by their time). */
export interface RetentionCutoffs {
  sentBodiesBefore: number;
  visitEventsBefore: number;
  rejectionsBefore: number;
}

export type RetentionPreview = Record<RetentionKind, { count: number; oldest?: number }>;
export type RetentionResult = Record<RetentionKind, number>;

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

// Every method returns a Promise, so an implementation may talk to a server (PostgreSQL); a caller that forgets `await`
// is caught by the lint (no-floating-promises / no-misused-promises in `npm test`), not by a check that is always true.

/** The outbox: visits, their claims and outcomes, the visit list, rejections and history. */
export interface OutboxStore {
  /** Accepts a batch atomically: all items are committed, or none. Same hash ⇒ unchanged; new hash ⇒ revision+1, state queued. */
  ingest(items: IngestItem[], now: number): Promise<IngestStatus[]>;
  getVisit(organizationId: string, visitId: string): Promise<VisitRow | undefined>;
  /** Facilities with at least one due record (queued/sending with expired lease, nextAttemptAt <= now). */
  facilitiesWithDueWork(now: number): Promise<string[]>;
  /**
   * Claims up to `limit` due records of one facility, oldest first, setting state `sending`, a lease, and a new claim
   * (claimSeq + 1). Only the returned claim can record the outcome or renew the lease.
   */
  claimDue(organizationId: string, now: number, limit: number, leaseMs: number): Promise<ClaimedVisit[]>;
  /**
   * Extends the lease of a claimed record while its delivery is still running (a slow delivery can outlast the lease).
   * Only while the row is still `sending` the same revision under the same claim. false ⇒ the claim is no longer ours:
   * a newer revision arrived, the outcome was recorded, or another claimer took the row over. A newer revision that has
   * not been attempted yet stays held back until `leaseUntil` (the attempt on the older one still runs), so keep
   * calling until the attempt ends.
   */
  renewLease(claim: Claim, leaseUntil: number): Promise<boolean>;
  /**
   * Outcome of the attempt under `claim`. Ignored (returns false) unless the row is still `sending` under that claim:
   * a newer revision that arrived meanwhile stays queued (and is released now), a new owner keeps the row.
   */
  markSent(claim: Claim, resourceIds: Record<string, string>, now: number): Promise<boolean>;
  /**
   * `refundAttempt`: the attempt was stopped by something facility-wide (429, failed auth, 403), not by this record,
   * so it does not count towards the record's attempts (which bound its own transient failures). Fenced as markSent.
   */
  markRetry(claim: Claim, nextAttemptAt: number, error: OperationOutcome, now: number, opts?: { refundAttempt?: boolean }): Promise<boolean>;
  /** Fenced as markSent. */
  markFinal(claim: Claim, state: 'needs-correction' | 'blocked' | 'dead-letter', error: OperationOutcome, now: number): Promise<boolean>;
  /** Puts a blocked / dead-letter / needs-correction record back in the queue (operator action), resetting attempts. */
  requeue(organizationId: string, visitId: string, now: number): Promise<boolean>;
  counts(organizationId?: string): Promise<Counts>;
  /** A page of visits, newest first (see VisitListFilter); `limit` rows at most. */
  listVisits(filter: VisitListFilter): Promise<VisitSummary[]>;
  /** Oldest waiting record and last delivery of one facility. */
  facilityFacts(organizationId: string): Promise<FacilityFacts>;
  /** Every organization the store holds visits or a facility state for, sorted. */
  organizations(): Promise<string[]>;
  /** Keeps rejections (one transaction). */
  addRejections(entries: RejectionEntry[]): Promise<void>;
  /** Deletes at most `limit` rejections older than `before` (bounded work per call); how many went. */
  purgeRejections(before: number, limit: number): Promise<number>;
  /** A page of rejections, newest first. */
  listRejections(filter: RejectionListFilter): Promise<StoredRejection[]>;
  /** Visits of one facility not yet final (queued or sending): what the ingest cap per facility counts. */
  pendingCount(organizationId: string): Promise<number>;
  /** Of those, how many are due at `now` and how many later (backoff, a lease), with the earliest later time. */
  dueSplit(organizationId: string, now: number): Promise<DueSplit>;
  /** State-change history of one visit, oldest first (optional: implementations may not keep one). */
  visitHistory?(organizationId: string, visitId: string): Promise<VisitEvent[]>;

  /**
   * The same child's latest weighing dated before `before` (YYYY-MM-DD) held by this facility, another visit than
   * `exceptVisitId`; written by ingest (created/revised records), replaced by a revision.
   */
  earlierWeighing(organizationId: string, childKey: string, before: string, exceptVisitId: string): Promise<EarlierWeighing | undefined>;
}

/** SATUSEHAT ids of the resources sent, by local key. */
export interface LedgerStore {
  getLedger(organizationId: string, localKey: string): Promise<LedgerEntry | undefined>;
  putLedger(entries: LedgerEntry[]): Promise<void>;
  /** Every ledger entry of one visit (keys starting with visitLedgerPrefix(visitId)), retracted ones included, ordered by key. */
  ledgerForVisit(organizationId: string, visitId: string): Promise<LedgerEntry[]>;
  /**
   * Forgets every SATUSEHAT id remembered for one organization (identity cache and resource ledger) in one transaction.
   * For a platform that forgot them itself (the bundled simulator starts empty); the outbox is untouched.
   */
  forgetPlatformIds(organizationId: string): Promise<{ identities: number; ledger: number }>;
}

/** Cached identity resolutions (patients, practitioners, locations). */
export interface IdentityStore {
  getIdentity(kind: IdentityEntry['kind'], organizationId: string, keyHash: string): Promise<IdentityEntry | undefined>;
  putIdentity(entry: IdentityEntry): Promise<void>;
}

/** Facilities' runtime state (hold, lockout). */
export interface FacilityStore {
  getFacilityState(organizationId: string): Promise<FacilityState | undefined>;
  putFacilityState(state: FacilityState): Promise<void>;
}

export interface ApiKeyStore {
  /** Stores a key (or updates its org/role/label/source); keeps its createdAt and a revocation. */
  putApiKey(row: ApiKeyRow): Promise<void>;
  /** The key with this sha256, revoked or not (callers check revokedAt). */
  findApiKey(keyHash: string): Promise<ApiKeyRow | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRow[]>;
  /** Revokes one key; false when there is no such key or it was already revoked. */
  revokeApiKey(keyHash: string, now: number): Promise<boolean>;
  /**
   * One transaction: stores every row of API_KEYS_FILE with source `file`, and revokes the keys imported from the file
   * earlier that it no longer lists.
   */
  importApiKeys(rows: ApiKeyRow[], now: number): Promise<ApiKeyImport>;
}

/** Health data at rest (README "Health data at rest"): bodies under data keys, their rotation and retention. */
export interface AtRestStore {
  /** Bodies per data key and purged bodies. */
  bodyKeyCounts(): Promise<BodyKeyCounts>;
  /** true when some body is not under the current data key (plain, or an older key): rotation has work. */
  hasStaleBodies(): Promise<boolean>;
  /** Re-encrypts up to `limit` bodies not under the current key, after cursor `after` (0 = from the start); one transaction. */
  reencryptBodies(limit: number, after: number): Promise<ReencryptBatch>;
  /** What purgeExpired would remove now: count and oldest time per kind. */
  retentionPreview(cutoffs: RetentionCutoffs): Promise<RetentionPreview>;
  /**
   * One bounded batch per kind: bodies of sent records (the row, its content hash, state and the ledger stay, so a
   * resend is `unchanged` and a revision is delivered over the same SATUSEHAT ids), visit history, rejections.
   */
  purgeExpired(cutoffs: RetentionCutoffs, limit: number, now: number): Promise<RetentionResult>;
  /** After a purge or re-encryption: old pages out of the write-ahead log (SQLite; a no-op elsewhere). */
  compactLog(): Promise<void>;
}

/** What the shared quota answers: a point granted now, or how long until one may be (never a busy loop). */
export type QuotaAnswer = { granted: true; /** Store-clock epoch ms of the grant (the database's clock on PostgreSQL). */ at: number } | { granted: false; retryInMs: number };

/**
 * One sliding-window budget per platform credential, shared by every instance on the database (README "Several
 * instances"): a grant log per credential, pruned as it goes, read and written under a per-credential lock.
 */
export interface QuotaStore {
  /**
   * Grants one point to `credential` when fewer than `limit` points were granted in the last `windowMs` (by any instance)
   * and the credential is not paused; otherwise says how long until the point that frees one leaves the window (or the
   * pause ends). `now`: the caller's clock, used where the store has no clock of its own (SQLite).
   */
  takeQuotaPoint(credential: string, limit: number, windowMs: number, now: number): Promise<QuotaAnswer>;
  /** The platform said Retry-After: no point for `credential` for `ms` from now, for every instance (never shortens a pause). */
  pauseQuota(credential: string, ms: number, now: number): Promise<void>;
  /**
   * Points granted to `credential` by every instance in the whole minutes (store clock) overlapping the last
   * `windowMs`, current minute included; `since`: the start of the oldest of those minutes. Kept for two hours.
   */
  quotaUse(credential: string, windowMs: number, now: number): Promise<{ requests: number; since: number }>;
}

/** How long per-minute grant counts are kept (longer than any window asked of quotaUse). */
export const QUOTA_MINUTES_KEPT_MS = 2 * 3_600_000;

/** A background import as every instance sees it (the console's upload). PII-free: counts, rows, columns, rules. */
export interface ImportJobRecord {
  id: string;
  organizationId: string;
  template: string;
  dryRun: boolean;
  locale: string;
  /** 'interrupted': it was running when its instance stopped renewing it (crashed, killed): it will never end. */
  state: 'running' | 'done' | 'failed' | 'interrupted';
  startedAt: number;
  finishedAt?: number;
  /** The summary after each batch, then the final one (JSON-safe numbers). */
  progress?: Record<string, unknown>;
  /** Row errors, capped by the writer. */
  errors: unknown[];
  moreErrors: number;
  /** Why the file could not be used: its messages/import.json reason and parameters. */
  fileError?: { why: string; params: Record<string, string | number> };
}

export type ImportJobReservation = { status: 'reserved' } | { status: 'facility-busy'; jobId: string } | { status: 'busy' };

/** What a running job writes: its progress and its lease, renewed for `leaseMs` from now. */
export interface ImportJobUpdate {
  progress?: Record<string, unknown>;
  errors: unknown[];
  moreErrors: number;
}

/** Import jobs shared by instances: any instance answers a job's page; the one running it renews its lease. */
export interface ImportJobStore {
  /**
   * Records a new running job held by `holder` until `now + leaseMs`, unless its facility has a live running job
   * (facility-busy) or `maxRunning` live jobs run over every facility (busy); one transaction, across instances.
   */
  reserveImportJob(job: Pick<ImportJobRecord, 'id' | 'organizationId' | 'template' | 'dryRun' | 'locale'>, holder: string, maxRunning: number, leaseMs: number, now: number): Promise<ImportJobReservation>;
  /** Progress and lease renewal of `holder`'s running job; false when it is no longer so (forgotten, taken as interrupted). */
  updateImportJob(id: string, holder: string, update: ImportJobUpdate, leaseMs: number, now: number): Promise<boolean>;
  /** The end of `holder`'s job: done or failed, with its last progress. */
  finishImportJob(id: string, holder: string, end: ImportJobUpdate & { state: 'done' | 'failed'; fileError?: ImportJobRecord['fileError'] }, now: number): Promise<void>;
  /** A job, with `interrupted` for a running one whose lease ended before `now`. */
  getImportJob(id: string, now: number): Promise<ImportJobRecord | undefined>;
  /** Forgets a reserved job whose upload was refused. */
  dropImportJob(id: string, holder: string): Promise<void>;
  /** Forgets jobs that ended (or were interrupted) before `before`, then the oldest ended beyond `maxKept`; the count forgotten. */
  forgetImportJobs(before: number, maxKept: number, now: number): Promise<number>;
}

/** A credential's token as shared between instances; times are remaining durations (instances' clocks differ). */
export interface SharedTokenState {
  token?: { value: string; expiresInMs: number; refreshInMs: number };
  /** A failed token request every instance honours until it ends (the platform's 1-per-minute lockout after a failed auth). */
  block?: { state: 'auth-failed' | 'rate-limited' | 'unavailable'; retryInMs: number; /** The failure as JSON (PII- and secret-free). */ error: unknown };
}

/** What a token fetch under the lease left: a token, or a block; both optional (a failure nobody must wait out leaves nothing). */
export interface SharedTokenUpdate {
  token?: { value: string; lifetimeMs: number; refreshInMs: number };
  block?: { state: 'auth-failed' | 'rate-limited' | 'unavailable'; durationMs: number; error: unknown };
}

/** The token cache of every instance: one token fetch per credential across instances. Tokens are sealed at rest. */
export interface TokenStore {
  /** The live parts only: an expired token or an ended block is absent. */
  getSharedToken(credential: string, now: number): Promise<SharedTokenState>;
  /** Stores what a fetch brought and releases the lease `token:<credential>` of `holder`, in one transaction. */
  putSharedToken(credential: string, update: SharedTokenUpdate, holder: string, now: number): Promise<void>;
  /** Compare-and-delete: drops the shared token only while it is `value` (a 401 for it); without `value`, whatever is stored. */
  dropSharedToken(credential: string, value?: string): Promise<void>;
}

/** Named leases on the store's clock: one holder at a time, expiring by themselves when the holder dies. */
export interface LeaseStore {
  /** Takes `name` for `ms` when it is free, expired or already `holder`'s (then renewed); true when `holder` has it now. */
  tryLease(name: string, holder: string, ms: number, now: number): Promise<boolean>;
  /** Releases `name` if `holder` still has it. */
  releaseLease(name: string, holder: string): Promise<void>;
}

/** A console session as the store keeps it, under the sha256 of its id (the cookie value): never the id itself. */
export interface ConsoleSessionRecord {
  /** sha256 of the API key signed in with (never the key; resolved again on every request). */
  keyHash: string;
  csrf: string;
  /** Last use as last written (writes are spaced, see getConsoleSession's touchMs). */
  lastSeen: number;
  /** One message shown on the next page. */
  flash?: string;
}

/** Console sessions every instance sees: an operator stays signed in whichever instance answers. */
export interface ConsoleSessionStore {
  /** Keeps a new session; first forgets expired ones and, beyond maxSessions − 1 live ones, the least recently seen. */
  createConsoleSession(idHash: string, session: Pick<ConsoleSessionRecord, 'keyHash' | 'csrf'>, idleMs: number, maxSessions: number, now: number): Promise<void>;
  /** The live session (lastSeen rewritten when touchMs or more old); an expired one is deleted and undefined returned. */
  getConsoleSession(idHash: string, idleMs: number, touchMs: number, now: number): Promise<ConsoleSessionRecord | undefined>;
  setConsoleFlash(idHash: string, flash: string): Promise<void>;
  /** Clears the flash if it is still this one (a newer one set meanwhile by another request stays). */
  clearConsoleFlash(idHash: string, flash: string): Promise<void>;
  deleteConsoleSession(idHash: string): Promise<void>;
  countConsoleSessions(idleMs: number, now: number): Promise<number>;
}

export interface Store extends OutboxStore, LedgerStore, IdentityStore, FacilityStore, ApiKeyStore, AtRestStore, QuotaStore, TokenStore, LeaseStore, ImportJobStore, ConsoleSessionStore {
  /**
   * Commits one tiny row (readiness: proves the store can still write, not just read). Rejects with StorageError when
   * it cannot. Optional: a store without it is taken as writable while it answers reads.
   */
  probeWrite?(now: number): Promise<void>;
  /** Full `PRAGMA integrity_check`: problems found (at most `maxProblems`), [] when sound. */
  integrityCheck?(maxProblems?: number): Promise<string[]>;

  close(): Promise<void>;
}
