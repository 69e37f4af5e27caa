// Health data at rest in the SQLite store: which data keys the bodies are under, re-encryption under the current key,
// and retention (sent bodies, visit history, rejections). Kept apart from sqlite.ts so the outbox code stays as it is.
import type Database from 'better-sqlite3';
import { currentKeyIdOf, recordAad, RecordKeyring, RecordSealError, sealedKeyId, type RecordCodec } from './record-codec.js';
import { StoreSchemaError, storeRefusal } from './open-checks.js';
import type { BodyKeyCounts, ReencryptBatch, RetentionCutoffs, RetentionKind, RetentionPreview, RetentionResult } from './types.js';

interface BodyRow {
  rid: number;
  org: string;
  visit_id: string;
  record: string;
  record_key: string | null;
}

export function atRestStatements(db: Database.Database) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    // Distinct key ids of the bodies still held, by skip-scan of the partial index (one seek per key id).
    keyIds: p<{ k: string }>(`
      WITH RECURSIVE o(k) AS (
        SELECT (SELECT min(record_key) FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL)
        UNION ALL
        SELECT (SELECT min(record_key) FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL AND record_key > o.k) FROM o WHERE o.k IS NOT NULL
      )
      SELECT k FROM o WHERE k IS NOT NULL`),
    sampleOfKey: p<{ org: string; visit_id: string; record: string }>(
      'SELECT org, visit_id, record FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL AND record_key = ? LIMIT 3'),
    countsByKey: p<{ k: string | null; n: number }>(
      'SELECT record_key AS k, count(*) AS n FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL GROUP BY record_key'),
    purgedCount: p<{ n: number }>('SELECT count(*) AS n FROM visits WHERE record_purged_at IS NOT NULL'),
    // Index ranges only (NULL, below, above the current key): cheap when every body is under the current key.
    // Three index ranges (NULL, below, above the current key), each stopping at its first entry: cheap when every body
    // is under the current key.
    anyStale: p<{ stale: number }>(`SELECT
      EXISTS (SELECT 1 FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL AND record_key IS NULL)
      OR EXISTS (SELECT 1 FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL AND record_key < ?)
      OR EXISTS (SELECT 1 FROM visits INDEXED BY visits_record_key WHERE record_purged_at IS NULL AND record_key > ?) AS stale`),
    staleBatch: p<BodyRow>(`SELECT rowid AS rid, org, visit_id, record, record_key FROM visits
      WHERE rowid > ? AND record_purged_at IS NULL AND record_key IS NOT ? ORDER BY rowid LIMIT ?`),
    // Compare-and-set on the body read: a revision written meanwhile is already under the current key.
    reseal: p('UPDATE visits SET record = ?, record_key = ? WHERE rowid = ? AND record = ?'),
    purgeBodies: p(`UPDATE visits SET record = '', record_key = NULL, record_purged_at = ? WHERE rowid IN (
      SELECT rowid FROM visits INDEXED BY visits_purgeable WHERE state = 'sent' AND record_purged_at IS NULL AND sent_at < ? ORDER BY sent_at LIMIT ?)`),
    previewBodies: p<{ n: number; oldest: number | null }>(`SELECT count(*) AS n, min(sent_at) AS oldest FROM visits INDEXED BY visits_purgeable
      WHERE state = 'sent' AND record_purged_at IS NULL AND sent_at < ?`),
    purgeEvents: p('DELETE FROM visit_events WHERE id IN (SELECT id FROM visit_events INDEXED BY visit_events_at WHERE at < ? ORDER BY at LIMIT ?)'),
    previewEvents: p<{ n: number; oldest: number | null }>('SELECT count(*) AS n, min(at) AS oldest FROM visit_events INDEXED BY visit_events_at WHERE at < ?'),
    previewRejections: p<{ n: number; oldest: number | null }>('SELECT count(*) AS n, min(at) AS oldest FROM rejections INDEXED BY rejections_at WHERE at < ?'),
    purgeRejections: p('DELETE FROM rejections WHERE id IN (SELECT id FROM rejections INDEXED BY rejections_at WHERE at < ? ORDER BY at LIMIT ?)'),
  };
}

export type AtRestStatements = ReturnType<typeof atRestStatements>;

/**
 * Opening refuses a database holding bodies under a key the keyring does not have, or under a key id whose key is not
 * the one they were sealed with (a few bodies per key are tried; one damaged body alone does not stop the store, it is
 * held when due): every read of them would fail.
 */
export function assertKeysAvailable(s: AtRestStatements, codec: RecordCodec, file: string): void {
  const ids = s.keyIds.all().map((r) => r.k);
  const missing = ids.filter((k) => !(codec instanceof RecordKeyring && codec.has(k)));
  const shown = (keys: string[]) => keys.map((k) => `"${k.replace(/[^\w-]/g, '?')}"`).join(', ');
  if (missing.length) {
    throw new StoreSchemaError(
      `${file} holds record bodies sealed under data key(s) ${shown(missing)}, ` +
        'which DATA_KEYS / the data key file does not have. Add the key(s) back to the keyring (newest first; older keys still open), ' +
        'or restore the key file from backup. The store does not start: those records could neither be delivered nor shown.',
      'STORE_DATA_KEY_MISSING',
      storeRefusal('data-key-missing.file', { file, keys: shown(missing) }),
    );
  }
  const wrong = ids.filter((k) => {
    const sample = s.sampleOfKey.all(k);
    return sample.length > 0 && sample.every((r) => !opens(codec, r.record, recordAad(r.org, r.visit_id)));
  });
  if (wrong.length) {
    throw new StoreSchemaError(
      `${file} holds record bodies under data key id(s) ${shown(wrong)}, but the key(s) of that id in DATA_KEYS / the data key file ` +
        'do not open them (another key under the same id?). Restore the right key file from backup; the store does not start.',
      'STORE_DATA_KEY_MISSING',
      storeRefusal('data-key-wrong.file', { file, keys: shown(wrong) }),
    );
  }
}

function opens(codec: RecordCodec, stored: string, aad: string): boolean {
  try {
    codec.open(stored, aad);
    return true;
  } catch (e) {
    if (e instanceof RecordSealError) return false;
    throw e;
  }
}

/** Bodies held per data key ('plain' = written before encryption) and bodies purged. */
export function bodyKeyCounts(s: AtRestStatements, codec: RecordCodec): BodyKeyCounts {
  // fromEntries defines own properties: a key id read from the file can never reach a prototype.
  const byKey = Object.fromEntries(s.countsByKey.all().map((r) => [r.k ?? 'plain', r.n]));
  const current = currentKeyIdOf(codec);
  return { byKey, purged: s.purgedCount.get()?.n ?? 0, ...(current !== undefined ? { currentKeyId: current } : {}) };
}

export function hasStaleBodies(s: AtRestStatements, codec: RecordCodec): boolean {
  const current = currentKeyIdOf(codec);
  if (current === undefined) return false; // no keyring: bodies are stored plain on purpose
  return s.anyStale.get(current, current)?.stale === 1;
}

/**
 * Re-encrypts up to `limit` bodies not under the current key (plain ones included), rows after `after` (a rowid
 * cursor: a body that cannot be opened is counted and passed, never retried in a loop). One transaction per batch.
 */
export function reencryptBatch(db: Database.Database, s: AtRestStatements, codec: RecordCodec, limit: number, after: number): ReencryptBatch {
  const current = currentKeyIdOf(codec);
  if (current === undefined) return { reencrypted: 0, unreadable: [], done: true, next: after };
  return db.transaction(() => {
    const rows = s.staleBatch.all(after, current, limit);
    const out: ReencryptBatch = { reencrypted: 0, unreadable: [], done: rows.length < limit, next: rows.at(-1)?.rid ?? after };
    for (const r of rows) {
      const aad = recordAad(r.org, r.visit_id);
      let plain: string;
      try {
        plain = codec.open(r.record, aad);
      } catch (e) {
        if (!(e instanceof RecordSealError)) throw e;
        out.unreadable.push({ organizationId: r.org, visitId: r.visit_id, keyId: e.keyId ?? sealedKeyId(r.record) ?? 'plain', fault: e.fault });
        continue;
      }
      const sealed = codec.seal(plain, aad);
      out.reencrypted += s.reseal.run(sealed, sealedKeyId(sealed) ?? null, r.rid, r.record).changes;
    }
    return out;
  }).immediate();
}

const kinds: readonly RetentionKind[] = ['sentBodies', 'visitEvents', 'rejections'];

export function retentionPreview(s: AtRestStatements, cutoffs: RetentionCutoffs): RetentionPreview {
  const rows = {
    sentBodies: s.previewBodies.get(cutoffs.sentBodiesBefore),
    visitEvents: s.previewEvents.get(cutoffs.visitEventsBefore),
    rejections: s.previewRejections.get(cutoffs.rejectionsBefore),
  };
  const out = {} as RetentionPreview;
  for (const k of kinds) {
    const r = rows[k];
    out[k] = { count: r?.n ?? 0, ...(r?.oldest != null ? { oldest: r.oldest } : {}) };
  }
  return out;
}

/** One bounded batch of each kind (`limit` rows at most per kind), each its own transaction. */
export function purgeBatch(s: AtRestStatements, cutoffs: RetentionCutoffs, limit: number, now: number): RetentionResult {
  return {
    sentBodies: s.purgeBodies.run(now, cutoffs.sentBodiesBefore, limit).changes,
    visitEvents: s.purgeEvents.run(cutoffs.visitEventsBefore, limit).changes,
    rejections: s.purgeRejections.run(cutoffs.rejectionsBefore, limit).changes,
  };
}

/**
 * After bodies were purged or re-encrypted: copy the WAL into the database and truncate it, so old pages (clear or
 * under a retired key) do not linger in the -wal file. Best effort: a reader still using the WAL keeps it until later.
 */
export function checkpoint(db: Database.Database): { busy: boolean } {
  if (db.memory) return { busy: false };
  const r = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  return { busy: (r[0]?.busy ?? 0) !== 0 };
}
