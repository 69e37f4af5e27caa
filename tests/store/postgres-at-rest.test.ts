// Health data at rest on PostgreSQL: sealed bodies (no NIK or name in any table), plain rows re-encrypted and keys
// rotated in resumable batches, a missing or wrong key refused at open, an altered body held, and retention that keeps
// exactly-once (hash, state and ledger stay when a sent body goes).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres.js';
import { plainRecordCodec, RecordKeyring, type RecordCodec } from '../../src/store/record-codec.js';
import { StoreSchemaError } from '../../src/store/open-checks.js';
import type { IngestItem } from '../../src/store/types.js';
import { describePostgres } from './helpers/postgres.js';

const ORG = '10000004';
const NIK = '3273010508269931';
const NAME = 'Dewi Lestari';
const T0 = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const LEASE = 60_000;
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const follow = (now: number) => now;
const item = (visitId: string, hash: string, extra: Record<string, unknown> = {}): IngestItem =>
  ({ organizationId: ORG, visitId, contentHash: hash, record: { visitId, patient: { nik: NIK, name: NAME }, ...extra } });
const cutoffs = (at: number) => ({ sentBodiesBefore: at, visitEventsBefore: at, rejectionsBefore: at });

describePostgres('PostgreSQL store: record bodies at rest', (server) => {
  let url = '';
  const opened: PostgresStore[] = [];
  let admin: pg.Client;
  beforeEach(async () => {
    url = await server().newDatabase();
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterEach(async () => {
    await admin.end();
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await server().dropDatabase(url);
  });
  const open = async (codec: RecordCodec) => {
    const s = await openPostgresStore({ url, clock: follow, poolMax: 2, codec });
    opened.push(s);
    return s;
  };
  /** Every row of every table of the store, as text. */
  const dump = async () => {
    const tables = (await admin.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.t);
    const parts = await Promise.all(tables.map(async (t) => JSON.stringify((await admin.query(`SELECT * FROM ${t}`)).rows)));
    return parts.join('\n');
  };
  const sendAll = async (store: PostgresStore, at: number) => {
    for (const r of await store.claimDue(ORG, at, 100, LEASE)) expect(await store.markSent(r.claim, { encounter: `Encounter/${r.visitId}` }, at)).toBe(true);
  };

  it('seals every body: no NIK or name in any table, while the store reads the records back', async () => {
    const store = await open(new RecordKeyring([['k1', K1]]));
    await store.ingest([item('V1', 'h1'), item('V2', 'h2')], T0);
    await store.addRejections([{ organizationId: ORG, visitId: 'V3', at: T0, issues: [{ severity: 'error', code: 'value', diagnostics: 'nik: 16 digits' }] }]);
    await sendAll(store, T0);
    expect((await store.getVisit(ORG, 'V1'))!.record).toEqual(item('V1', 'h1').record);
    const text = await dump();
    expect(text).not.toContain(NIK);
    expect(text).not.toContain(NAME);
    expect(text).toContain('enc:v1:k1:');
    expect(await store.bodyKeyCounts()).toEqual({ byKey: { k1: 2 }, purged: 0, currentKeyId: 'k1' });
    expect(await store.hasStaleBodies()).toBe(false);
  });

  it('reads plain rows written before encryption, re-encrypts them in resumable batches, and rotates to a new key', async () => {
    const before = await open(plainRecordCodec);
    await before.ingest(['A', 'B', 'C', 'D', 'E'].map((v) => item(v, v)), T0);
    expect(await dump()).toContain(NIK);
    const store = await open(new RecordKeyring([['k1', K1]]));
    expect(await store.bodyKeyCounts()).toMatchObject({ byKey: { plain: 5 }, currentKeyId: 'k1' });
    expect(await store.hasStaleBodies()).toBe(true);
    expect((await store.getVisit(ORG, 'C'))!.record).toEqual(item('C', 'C').record);
    const first = await store.reencryptBodies(2, 0);
    expect(first).toMatchObject({ reencrypted: 2, unreadable: [], done: false });
    let batch = first;
    while (!batch.done) batch = await store.reencryptBodies(2, batch.next);
    expect(await store.bodyKeyCounts()).toMatchObject({ byKey: { k1: 5 } });
    expect(await dump()).not.toContain(NIK);
    // Rotation: a new key first in the ring seals; the old one still opens until everything is re-sealed.
    const rotated = await open(new RecordKeyring([['k2', K2], ['k1', K1]]));
    expect(await rotated.hasStaleBodies()).toBe(true);
    batch = await rotated.reencryptBodies(100, 0);
    expect(batch).toMatchObject({ reencrypted: 5, done: true });
    expect(await rotated.bodyKeyCounts()).toMatchObject({ byKey: { k2: 5 }, currentKeyId: 'k2' });
    const later = await open(new RecordKeyring([['k2', K2]]));
    expect((await later.getVisit(ORG, 'E'))!.record).toEqual(item('E', 'E').record);
  });

  it('refuses to open without a key the bodies need, or with another key under the same id; a second instance with its own key included', async () => {
    const store = await open(new RecordKeyring([['k1', K1]]));
    await store.ingest([item('V1', 'h1')], T0);
    for (const codec of [plainRecordCodec, new RecordKeyring([['k2', K2]])]) {
      const err = await openPostgresStore({ url, codec }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreSchemaError);
      expect(err).toMatchObject({ code: 'STORE_DATA_KEY_MISSING' });
      expect((err as Error).message).toMatch(/"k1"/);
    }
    const wrong = await openPostgresStore({ url, codec: new RecordKeyring([['k1', K2]]) }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'STORE_DATA_KEY_MISSING' });
    expect((wrong as Error).message).toMatch(/do not open them/);
  });

  it('holds a visit whose body was altered or moved from another row (blocked, naming the key), and shows it without a crash', async () => {
    const store = await open(new RecordKeyring([['k1', K1]]));
    await store.ingest([item('V1', 'h1'), item('V2', 'h2'), item('V3', 'h3')], T0);
    await admin.query(`UPDATE visits SET record = (SELECT record FROM visits WHERE visit_id = 'V1') WHERE visit_id = 'V2'`);
    const shown = await store.getVisit(ORG, 'V2');
    expect(shown).toMatchObject({ state: 'queued', record: undefined });
    expect(shown!.recordUnreadable).toMatch(/k1/);
    const claimed = await store.claimDue(ORG, T0, 10, LEASE);
    expect(claimed.map((r) => r.visitId)).toEqual(['V1', 'V3']);
    const held = await store.getVisit(ORG, 'V2');
    expect(held).toMatchObject({ state: 'blocked', lastError: { issue: [{ code: 'security', expression: ['record'] }] } });
    // Blocked: never claimed again (the others' leases ran out, so they are).
    expect((await store.claimDue(ORG, T0 + 10 * LEASE, 10, LEASE)).map((r) => r.visitId)).toEqual(['V1', 'V3']);
    expect((await store.reencryptBodies(100, 0)).unreadable).toEqual([]); // every body already under the current key
  });

  it('purges the body of a sent record after the retention, keeping hash, state and ledger: same content unchanged, new content a revision', async () => {
    const store = await open(new RecordKeyring([['k1', K1]]));
    await store.ingest([item('OLD', 'h-old'), item('NEW', 'h-new'), item('WAIT', 'h-wait')], T0);
    for (const r of await store.claimDue(ORG, T0, 2, LEASE)) await store.markSent(r.claim, { encounter: `Encounter/${r.visitId}` }, r.visitId === 'OLD' ? T0 : T0 + 40 * DAY);
    await store.putLedger([{ organizationId: ORG, localKey: 'visit/OLD/encounter', resourceType: 'Encounter', satusehatId: 'e-old', contentHash: 'c', updatedAt: T0 }]);
    await store.addRejections([{ organizationId: ORG, at: T0, issues: [] }, { organizationId: ORG, at: T0 + 40 * DAY, issues: [] }]);
    const at = T0 + 30 * DAY;
    expect(await store.retentionPreview(cutoffs(at))).toEqual({
      sentBodies: { count: 1, oldest: T0 }, visitEvents: { count: expect.any(Number), oldest: T0 }, rejections: { count: 1, oldest: T0 },
    });
    const result = await store.purgeExpired(cutoffs(at), 100, T0 + 41 * DAY);
    expect(result).toMatchObject({ sentBodies: 1, rejections: 1 });
    expect(result.visitEvents).toBeGreaterThan(0);
    expect(await store.purgeExpired(cutoffs(at), 100, T0 + 41 * DAY)).toEqual({ sentBodies: 0, visitEvents: 0, rejections: 0 });
    const old = await store.getVisit(ORG, 'OLD');
    expect(old).toMatchObject({ state: 'sent', contentHash: 'h-old', record: undefined, recordPurgedAt: T0 + 41 * DAY, resourceIds: { encounter: 'Encounter/OLD' } });
    expect((await store.getLedger(ORG, 'visit/OLD/encounter'))?.satusehatId).toBe('e-old');
    expect(await store.bodyKeyCounts()).toMatchObject({ byKey: { k1: 2 }, purged: 1 });
    expect((await store.getVisit(ORG, 'WAIT'))!.record).toEqual(item('WAIT', 'h-wait').record); // not sent: kept
    expect(await store.ingest([item('OLD', 'h-old')], T0 + 42 * DAY)).toEqual(['unchanged']);
    expect(await store.ingest([item('OLD', 'h-old-2', { corrected: true })], T0 + 42 * DAY)).toEqual(['revised']);
    expect(await store.getVisit(ORG, 'OLD')).toMatchObject({ revision: 2, state: 'queued', record: { corrected: true } });
    expect((await store.getVisit(ORG, 'OLD'))!.recordPurgedAt).toBeUndefined();
    await store.compactLog();
  });

  it('validates the retention and re-encryption arguments', async () => {
    const store = await open(plainRecordCodec);
    await expect(store.purgeExpired({ ...cutoffs(T0), rejectionsBefore: Number.NaN }, 10, T0)).rejects.toThrow(TypeError);
    await expect(store.purgeExpired(cutoffs(T0), 0, T0)).rejects.toThrow(TypeError);
    await expect(store.reencryptBodies(10, -1)).rejects.toThrow(TypeError);
    expect(await store.reencryptBodies(10, 0)).toEqual({ reencrypted: 0, unreadable: [], done: true, next: 0 });
    expect(await store.hasStaleBodies()).toBe(false);
  });
});
