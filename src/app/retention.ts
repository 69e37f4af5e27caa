// Health data at rest, as use cases the service schedule and the CLI share: what retention removes (sent bodies,
// visit history, rejections), removing it in bounded batches, and re-encrypting bodies under the current data key.
import type { ReencryptBatch, RetentionCutoffs, RetentionKind, RetentionPreview, RetentionResult, Store } from '../store/types.js';
import { DAY_MS } from './rejections.js';
import type { Logger } from '../util/logger.js';

export interface RetentionSettings {
  /** Days after delivery (sentAt) a sent record's body is kept. */
  sentDays: number;
  /** Days a history entry of a visit is kept. */
  historyDays: number;
  /** Days a rejection entry is kept. */
  rejectionsDays: number;
}

export const RETENTION_KINDS: readonly RetentionKind[] = ['sentBodies', 'visitEvents', 'rejections'];
/** Rows of each kind removed per batch (one short transaction each: pushes and deliveries are not held up). */
export const RETENTION_BATCH = 500;
/** Bodies re-encrypted per batch. */
export const ROTATION_BATCH = 200;

export const retentionCutoffs = (now: number, r: RetentionSettings): RetentionCutoffs => ({
  sentBodiesBefore: now - r.sentDays * DAY_MS,
  visitEventsBefore: now - r.historyDays * DAY_MS,
  rejectionsBefore: now - r.rejectionsDays * DAY_MS,
});

export const previewRetention = (store: Store, now: number, r: RetentionSettings): Promise<RetentionPreview> => store.retentionPreview(retentionCutoffs(now, r));

const none = (): RetentionResult => ({ sentBodies: 0, visitEvents: 0, rejections: 0 });

/**
 * Removes what is past retention, `batch` rows per kind at a time, at most `maxBatches` rounds (the schedule does one
 * round per tick; the CLI goes until nothing is left). The write-ahead log is truncated after anything went.
 */
export async function purgeExpired(store: Store, now: number, r: RetentionSettings, opts: { batch?: number; maxBatches?: number } = {}): Promise<RetentionResult> {
  const batch = opts.batch ?? RETENTION_BATCH;
  const total = none();
  const cutoffs = retentionCutoffs(now, r);
  for (let round = 0; round < (opts.maxBatches ?? Number.POSITIVE_INFINITY); round++) {
    const got = await store.purgeExpired(cutoffs, batch, now);
    for (const k of RETENTION_KINDS) total[k] += got[k];
    if (RETENTION_KINDS.every((k) => got[k] < batch)) break;
  }
  if (RETENTION_KINDS.some((k) => total[k] > 0)) await store.compactLog();
  return total;
}

export interface RotationSummary {
  reencrypted: number;
  unreadable: ReencryptBatch['unreadable'];
  batches: number;
}

/** Re-encrypts every body not under the current key, batch by batch (each committed: an interrupted run resumes). */
export async function rotateData(store: Store, opts: { batch?: number; onBatch?: (done: RotationSummary) => void } = {}): Promise<RotationSummary> {
  const summary: RotationSummary = { reencrypted: 0, unreadable: [], batches: 0 };
  let after = 0;
  for (;;) {
    const b = await store.reencryptBodies(opts.batch ?? ROTATION_BATCH, after);
    summary.batches++;
    summary.reencrypted += b.reencrypted;
    summary.unreadable.push(...b.unreadable);
    after = b.next;
    opts.onBatch?.(summary);
    if (b.done) break;
  }
  if (summary.reencrypted) await store.compactLog();
  return summary;
}

/**
 * The service's share of rotation: one batch per call while some body is not under the current key, resuming where
 * the last call stopped. A pass that re-encrypted nothing (only unreadable bodies left) ends the work of this process:
 * the keyring only changes at a restart, so scanning again could not help.
 */
export class BackgroundRotation {
  private after = 0;
  private pass = { reencrypted: 0, unreadable: 0 };
  private exhausted = false;

  constructor(private readonly batch = ROTATION_BATCH) {}

  /** One batch; undefined when there is nothing (more) to do. `passDone` with the pass totals when a pass ended. */
  async step(store: Store): Promise<{ reencrypted: number; passDone?: { reencrypted: number; unreadable: number } } | undefined> {
    if (this.exhausted || (this.after === 0 && !(await store.hasStaleBodies()))) return undefined;
    const b = await store.reencryptBodies(this.batch, this.after);
    this.pass.reencrypted += b.reencrypted;
    this.pass.unreadable += b.unreadable.length;
    if (!b.done) {
      this.after = b.next;
      return { reencrypted: b.reencrypted };
    }
    const passDone = this.pass;
    this.after = 0;
    this.pass = { reencrypted: 0, unreadable: 0 };
    if (passDone.reencrypted) await store.compactLog();
    else this.exhausted = true;
    return { reencrypted: b.reencrypted, passDone };
  }
}

/**
 * What the schedule runs besides delivery: one bounded batch of retention (sent bodies, history, rejections) and of
 * background re-encryption, each said in the log when it did something.
 */
export function maintenanceStep(deps: { store: Store; now: () => number; retention: RetentionSettings; logger: Pick<Logger, 'info' | 'warn'>; currentKeyId: string | undefined }):
  () => Promise<{ purged: RetentionResult; reencrypted: number }> {
  const rotation = new BackgroundRotation();
  const { store, logger } = deps;
  return async () => {
    const purged = await purgeExpired(store, deps.now(), deps.retention, { maxBatches: 1 });
    if (purged.sentBodies + purged.visitEvents + purged.rejections) logger.info({ purged }, 'removed records past retention');
    const rotated = await rotation.step(store);
    if (rotated?.passDone) {
      const { reencrypted, unreadable } = rotated.passDone;
      (unreadable ? logger.warn.bind(logger) : logger.info.bind(logger))({ reencrypted, unreadable, keyId: deps.currentKeyId },
        unreadable ? 're-encryption pass over record bodies done; some bodies cannot be opened (their visits are held when due)' : 're-encryption pass over record bodies done');
    }
    return { purged, reencrypted: rotated?.reencrypted ?? 0 };
  };
}
