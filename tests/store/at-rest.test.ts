// The SQLite store with sealed bodies: what the file holds, old plain rows, a missing key, a tampered or moved body,
// re-encryption in resumable batches, and retention that keeps exactly-once (hash, state, ledger stay).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { openSqliteStore, StoreSchemaError } from '../../src/store/sqlite.js';
import { loadDataKeys, plainRecordCodec, RecordKeyring } from '../../src/store/record-codec.js';
import { previewRetention, purgeExpired, rotateData, BackgroundRotation, type RetentionSettings } from '../../src/app/retention.js';
import type { IngestItem, Store } from '../../src/store/types.js';
import { databaseAtVersion } from './helpers/schema-version.js';
import { visitView } from '../../src/app/visit-view.js';
import type { OperationOutcome } from 'fhir/r4.js';

const ORG = '10000004';
const NIK = '3273010508269931';
const T0 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const LEASE = 60_000;
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const k1 = new RecordKeyring([['k1', K1]]);
const RETENTION: RetentionSettings = { sentDays: 30, historyDays: 90, rejectionsDays: 30 };

const item = (visitId: string, hash: string, extra: Record<string, unknown> = {}): IngestItem =>
  ({ organizationId: ORG, visitId, contentHash: hash, record: { visitId, patient: { nik: NIK, name: 'Dewi Lestari' }, ...extra } });

const fileBytesContain = (file: string, text: string): boolean =>
  [file, `${file}-wal`].filter((f) => fs.existsSync(f)).some((f) => fs.readFileSync(f).includes(Buffer.from(text)));

async function sent(store: Store, visitId: string, at: number): Promise<void> {
  const claimed = (await store.claimDue(ORG, at, 100, LEASE)).filter((r) => r.visitId === visitId);
  expect(claimed).toHaveLength(1);
  expect(await store.markSent(claimed[0]!.claim, { encounter: `Encounter/e-${visitId}` }, at)).toBe(true);
}

describe('SQLite store: record bodies at rest', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-at-rest-store-'));
    file = path.join(dir, 'ilp-adapter.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const raw = <T>(use: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return use(db);
    } finally {
      db.close();
    }
  };

  it('seals bodies in the file (the plain codec would not: the byte search sees a NIK when there is one), secure_delete on', async () => {
    const plain = openSqliteStore({ file: path.join(dir, 'plain.db') });
    await plain.ingest([item('V1', 'h1')], T0);
    expect(fileBytesContain(path.join(dir, 'plain.db'), NIK)).toBe(true);
    await plain.close();

    const store = openSqliteStore({ file, codec: k1 });
    await store.ingest([item('V1', 'h1'), item('V2', 'h2')], T0);
    expect((await store.getVisit(ORG, 'V1'))!.record).toMatchObject({ patient: { nik: NIK } });
    expect((await store.claimDue(ORG, T0, 10, LEASE)).map((r) => (r.record as { patient: { nik: string } }).patient.nik)).toEqual([NIK, NIK]);
    expect(fileBytesContain(file, NIK)).toBe(false);
    expect(await store.bodyKeyCounts()).toEqual({ byKey: { k1: 2 }, purged: 0, currentKeyId: 'k1' });
    await store.close();
    raw((db) => {
      expect((db.prepare('SELECT record, record_key FROM visits ORDER BY visit_id').all() as Array<{ record: string; record_key: string }>)
        .map((r) => [r.record.slice(0, 10), r.record_key])).toEqual([['enc:v1:k1:', 'k1'], ['enc:v1:k1:', 'k1']]);
    });
    const again = openSqliteStore({ file, codec: k1 });
    expect((again as unknown as { db: Database.Database }).db.pragma('secure_delete', { simple: true })).toBe(1);
    await again.close();
  });

  it('reads plain rows written before encryption, and re-encrypts them in resumable batches', async () => {
    const before = openSqliteStore({ file });
    await before.ingest(Array.from({ length: 5 }, (_, i) => item(`V${i}`, `h${i}`)), T0);
    await before.close();

    const store = openSqliteStore({ file, codec: k1 });
    expect((await store.getVisit(ORG, 'V3'))!.record).toMatchObject({ visitId: 'V3', patient: { nik: NIK } });
    expect((await store.bodyKeyCounts()).byKey).toEqual({ plain: 5 });
    expect(await store.hasStaleBodies()).toBe(true);
    // Interrupted after one batch of 2: a new run picks up what is left.
    expect(await store.reencryptBodies(2, 0)).toMatchObject({ reencrypted: 2, done: false });
    expect((await store.bodyKeyCounts()).byKey).toEqual({ plain: 3, k1: 2 });
    const progress: number[] = [];
    const summary = await rotateData(store, { batch: 2, onBatch: (s) => progress.push(s.reencrypted) });
    expect(summary).toMatchObject({ reencrypted: 3, unreadable: [] });
    expect(progress.at(-1)).toBe(3);
    expect((await store.bodyKeyCounts()).byKey).toEqual({ k1: 5 });
    expect(await store.hasStaleBodies()).toBe(false);
    expect((await rotateData(store, { batch: 2 })).reencrypted).toBe(0);
    expect(fileBytesContain(file, NIK)).toBe(false);
    await store.close();

    // A new key first: the old one still opens; rotation moves everything under the new one; then k1 can go.
    const k2 = new RecordKeyring([['k2', K2], ['k1', K1]]);
    const rotated = openSqliteStore({ file, codec: k2 });
    await rotated.ingest([item('V9', 'h9')], T0);
    expect((await rotated.bodyKeyCounts()).byKey).toEqual({ k1: 5, k2: 1 });
    const bg = new BackgroundRotation(2);
    let steps = 0;
    while (await bg.step(rotated)) steps++;
    expect(steps).toBe(3);
    expect((await rotated.bodyKeyCounts()).byKey).toEqual({ k2: 6 });
    await rotated.close();
    const only2 = new RecordKeyring([['k2', K2]]);
    const later = openSqliteStore({ file, codec: only2 });
    expect((await later.getVisit(ORG, 'V0'))!.record).toMatchObject({ visitId: 'V0' });
    await later.close();
  });

  it('refuses to open when bodies are under a key the keyring does not have, naming the key id', async () => {
    const store = openSqliteStore({ file, codec: k1 });
    await store.ingest([item('V1', 'h1')], T0);
    await store.close();
    for (const codec of [new RecordKeyring([['k7', randomBytes(32)]]), plainRecordCodec, undefined]) {
      let err: unknown;
      try {
        await openSqliteStore({ file, ...(codec ? { codec } : {}) }).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreSchemaError);
      expect(err).toMatchObject({ code: 'STORE_DATA_KEY_MISSING' });
      expect((err as Error).message).toContain('data key(s) "k1"');
    }
  });

  it('holds a visit whose body was altered or moved from another row (blocked, with the key id), and shows it without a crash', async () => {
    const store = openSqliteStore({ file, codec: k1 });
    await store.ingest([item('V1', 'h1'), item('V2', 'h2'), item('V3', 'h3')], T0);
    await store.close();
    raw((db) => {
      const v2 = (db.prepare(`SELECT record FROM visits WHERE visit_id = 'V2'`).get() as { record: string }).record;
      db.prepare(`UPDATE visits SET record = ? WHERE visit_id = 'V1'`).run(v2); // V2's body swapped into V1's row
      const v3 = (db.prepare(`SELECT record FROM visits WHERE visit_id = 'V3'`).get() as { record: string }).record;
      db.prepare(`UPDATE visits SET record = ? WHERE visit_id = 'V3'`).run(`${v3.slice(0, -6)}AAAA==`);
    });
    // Opened with a newer key first, so that rotation meets the damaged bodies too.
    const reopened = openSqliteStore({ file, codec: new RecordKeyring([['k2', K2], ['k1', K1]]) });
    const claimed = await reopened.claimDue(ORG, T0 + 1, 10, LEASE);
    expect(claimed.map((r) => r.visitId)).toEqual(['V2']);
    for (const id of ['V1', 'V3']) {
      const row = (await reopened.getVisit(ORG, id))!;
      expect(row.state).toBe('blocked');
      expect(row.record).toBeUndefined();
      expect(row.recordUnreadable).toContain('data key "k1"');
      expect(row.lastError!.issue[0]!.details!.text).toContain('failed authentication');
      // Said in the reader's language: Bahasa Indonesia by default, the stored English on request.
      expect(row.recordUnreadableRef).toEqual({ key: 'store-open.record.tampered', params: { keyId: 'k1' } });
      const inId = visitView(row, undefined, undefined, 'id');
      expect(inId.recordNote).toBe('Isi rekaman tidak dapat dibuka: isi rekaman dengan kunci data "k1" gagal diautentikasi '
        + '(diubah, dipindahkan dari baris lain, atau kunci "k1" bukan kunci yang menyegelnya)');
      expect((inId.lastError as OperationOutcome).issue[0]).toMatchObject({
        diagnostics: expect.stringMatching(/^isi rekaman dengan kunci data "k1" gagal diautentikasi .*Tambahkan kembali kunci data itu/),
        details: { text: expect.stringMatching(/^isi rekaman dengan kunci data "k1"/) },
      });
      expect((inId.lastError as OperationOutcome).issue[0]!.extension).toBeUndefined();
      const en = visitView(row, undefined, undefined, 'en');
      expect(en.recordNote).toBe(`The record's content cannot be opened: ${row.recordUnreadable}`);
      expect((en.lastError as OperationOutcome).issue[0]!.diagnostics).toBe(row.lastError!.issue[0]!.details!.text);
    }
    expect((await reopened.claimDue(ORG, T0 + 2 * LEASE, 10, LEASE)).map((r) => r.visitId)).toEqual(['V2']); // never again, V2's lease ran out
    const rotation = await rotateData(reopened, { batch: 1 });
    expect(rotation.unreadable.map((u) => [u.visitId, u.keyId, u.fault])).toEqual([['V1', 'k1', 'tampered'], ['V3', 'k1', 'tampered']]);
    expect(rotation.reencrypted).toBe(1);
    expect((await reopened.bodyKeyCounts()).byKey).toEqual({ k1: 2, k2: 1 });
    // The facility pushes the record again: a revision with a sound body.
    expect(await reopened.ingest([item('V1', 'h1b')], T0 + 3)).toEqual(['revised']);
    expect((await reopened.getVisit(ORG, 'V1'))!.record).toMatchObject({ visitId: 'V1' });
    await reopened.close();
  });

  it('purges the body of a sent record after the retention, keeping hash, state and ledger: same content is unchanged, new content a revision', async () => {
    const store = openSqliteStore({ file, codec: k1 });
    await store.ingest([item('V1', 'h1'), item('V2', 'h2'), item('Q1', 'q1')], T0);
    const claimed = await store.claimDue(ORG, T0, 2, LEASE);
    for (const r of claimed) await store.markSent(r.claim, { encounter: `Encounter/e-${r.visitId}` }, T0 + 1);
    await store.putLedger([{ organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e-V1', contentHash: 'r1', updatedAt: T0 }]);
    await store.addRejections([{ organizationId: ORG, visitId: 'R1', at: T0, issues: [{ severity: 'error', code: 'required' }] }]);

    expect((await previewRetention(store, T0 + 29 * DAY, RETENTION)).sentBodies).toEqual({ count: 0 });
    const day31 = T0 + 31 * DAY;
    const preview = await previewRetention(store, day31, RETENTION);
    expect(preview).toEqual({ sentBodies: { count: 2, oldest: T0 + 1 }, visitEvents: { count: 0 }, rejections: { count: 1, oldest: T0 } });
    // Bounded: one batch of 1 per kind.
    expect(await purgeExpired(store, day31, RETENTION, { batch: 1, maxBatches: 1 })).toEqual({ sentBodies: 1, visitEvents: 0, rejections: 1 });
    expect(await purgeExpired(store, day31, RETENTION, { batch: 1 })).toEqual({ sentBodies: 1, visitEvents: 0, rejections: 0 });
    expect((await previewRetention(store, day31, RETENTION)).sentBodies).toEqual({ count: 0 });

    const v1 = (await store.getVisit(ORG, 'V1'))!;
    expect(v1).toMatchObject({ state: 'sent', revision: 1, contentHash: 'h1', recordPurgedAt: day31, resourceIds: { encounter: 'Encounter/e-V1' } });
    expect(v1.record).toBeUndefined();
    expect((await store.getVisit(ORG, 'Q1'))!.record).toMatchObject({ visitId: 'Q1' }); // not sent: kept
    expect(await store.getLedger(ORG, 'visit/V1/encounter')).toMatchObject({ satusehatId: 'e-V1' });
    expect(await store.bodyKeyCounts()).toMatchObject({ byKey: { k1: 1 }, purged: 2 });
    raw((db) => expect(db.prepare(`SELECT record, record_key FROM visits WHERE visit_id = 'V1'`).get()).toEqual({ record: '', record_key: null }));

    expect(await store.ingest([item('V1', 'h1')], day31)).toEqual(['unchanged']);
    expect((await store.getVisit(ORG, 'V1'))!.state).toBe('sent');
    expect(await store.ingest([item('V1', 'h1-new', { end: 'later' })], day31 + 1)).toEqual(['revised']);
    const revised = (await store.getVisit(ORG, 'V1'))!;
    expect(revised).toMatchObject({ state: 'queued', revision: 2, record: { end: 'later' } });
    expect(revised.recordPurgedAt).toBeUndefined();
    await sent(store, 'V1', day31 + 2);
    expect((await store.getVisit(ORG, 'V1'))!.revision).toBe(2);
    await store.close();
    expect(fileBytesContain(file, NIK)).toBe(false);
  });

  it('expires visit history by time, in bounded batches', async () => {
    const store = openSqliteStore({ file, codec: k1 });
    await store.ingest([item('V1', 'h1'), item('V2', 'h2')], T0);
    await sent(store, 'V1', T0 + DAY);
    await store.ingest([item('V3', 'h3')], T0 + 60 * DAY);
    // V1: queued at T0, sending and sent at T0+1d; V2 queued at T0, sending at T0+1d; V3 queued at T0+60d (not yet 90 days old).
    expect((await previewRetention(store, T0 + 91 * DAY, RETENTION)).visitEvents).toEqual({ count: 2, oldest: T0 });
    const at = T0 + 92 * DAY;
    expect((await previewRetention(store, at, RETENTION)).visitEvents).toEqual({ count: 5, oldest: T0 });
    expect((await purgeExpired(store, at, RETENTION, { batch: 3, maxBatches: 1 })).visitEvents).toBe(3);
    expect((await purgeExpired(store, at, RETENTION, { batch: 3 })).visitEvents).toBe(2);
    expect(await store.visitHistory!(ORG, 'V1')).toEqual([]);
    expect(await store.visitHistory!(ORG, 'V2')).toEqual([]);
    expect(await store.visitHistory!(ORG, 'V3')).toHaveLength(1);
    await store.close();
  });
});

describe('SQLite store: upgrading a database of schema 6', () => {
  it('migrates (record_key NULL), reads the plain bodies, seals revisions, and rotation seals the rest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-at-rest-upgrade-'));
    const file = path.join(dir, 'old.db');
    try {
      const old = databaseAtVersion(file, 6, T0);
      const body = (v: string) => JSON.stringify({ visitId: v, patient: { nik: NIK } });
      for (const v of ['A', 'B']) {
        old.prepare(`INSERT INTO visits (org, visit_id, revision, content_hash, record, state, attempts, next_attempt_at, created_at, updated_at, sent_at)
          VALUES (?, ?, 1, ?, ?, 'sent', 1, ?, ?, ?, ?)`).run(ORG, v, `h${v}`, body(v), T0, T0, T0, T0);
      }
      old.close();
      const store = openSqliteStore({ file, codec: k1 });
      expect((await store.getVisit(ORG, 'A'))!.record).toEqual({ visitId: 'A', patient: { nik: NIK } });
      expect((await store.bodyKeyCounts()).byKey).toEqual({ plain: 2 });
      expect(await store.ingest([item('A', 'hA2')], T0 + 1)).toEqual(['revised']);
      expect((await store.bodyKeyCounts()).byKey).toEqual({ plain: 1, k1: 1 });
      expect((await rotateData(store)).reencrypted).toBe(1);
      expect((await store.bodyKeyCounts()).byKey).toEqual({ k1: 2 });
      expect((await store.getVisit(ORG, 'B'))!.record).toEqual({ visitId: 'B', patient: { nik: NIK } });
      await store.close();
      expect(fileBytesContain(file, NIK)).toBe(false); // secure_delete zeroed the clear cells the re-encryption replaced
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite store: a key file mistaken for another', () => {
  it('refuses to open when the key of an id does not open the bodies sealed under that id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-at-rest-wrong-'));
    const file = path.join(dir, 'x.db');
    try {
      const store = openSqliteStore({ file, codec: new RecordKeyring([['k1', K1]]) });
      await store.ingest([item('V1', 'h1'), item('V2', 'h2')], T0);
      await store.close();
      expect(() => openSqliteStore({ file, codec: new RecordKeyring([['k1', K2]]) })).toThrow(/data key id\(s\) "k1", but the key\(s\) of that id .* do not open them/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite store: a key file changed while the service runs', () => {
  it('keys rotate-data with a new key file before the service restarts: the running store reads the file again, nothing is held', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-at-rest-reload-'));
    const file = path.join(dir, 'ilp-adapter.db');
    try {
      const running = openSqliteStore({ file, codec: loadDataKeys({}, dir).keyring });
      await running.ingest([item('V1', 'h1'), item('V2', 'h2')], T0);
      const keyFile = path.join(dir, 'data-keys');
      fs.writeFileSync(keyFile, `k-new:${K2.toString('base64')}\n${fs.readFileSync(keyFile, 'utf8')}`);
      const cli = openSqliteStore({ file, codec: loadDataKeys({}, dir).keyring });
      expect((await rotateData(cli)).reencrypted).toBe(2);
      await cli.close();
      // The running store's ring lacks k-new: it reads the key file again instead of holding the visits.
      expect((await running.claimDue(ORG, T0, 10, LEASE)).map((r) => (r.record as { visitId: string }).visitId)).toEqual(['V1', 'V2']);
      await running.ingest([item('V3', 'h3')], T0);
      expect(await running.bodyKeyCounts()).toEqual({ byKey: { 'k-new': 3 }, purged: 0, currentKeyId: 'k-new' });
      await running.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
