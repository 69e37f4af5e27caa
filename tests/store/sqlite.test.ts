import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, StoreSchemaError } from '../../src/store/sqlite.js';
import { latestSchemaVersion, migrations } from '../../src/store/migrations.js';
import { databaseAtVersion } from './helpers/schema-version.js';
import type { IngestItem } from '../../src/store/types.js';

const ORG = '10000004';
const T0 = 1_750_000_000_000;
const LEASE = 60_000;

const item = (visitId: string, hash: string, org = ORG, record: unknown = { visitId, v: hash }): IngestItem =>
  ({ organizationId: org, visitId, record, contentHash: hash });

describe('SQLite store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file in WAL mode with 8 KB pages (both persistent, unlike the per-connection pragmas)', async () => {
    const file = path.join(dir, 'a.db');
    await openSqliteStore({ file }).close();
    const db = new Database(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('page_size', { simple: true })).toBe(8192);
    db.close();
  });

  it('keeps everything across reopen and applies migrations once', async () => {
    const file = path.join(dir, 'b.db');
    let s = openSqliteStore({ file });
    await s.ingest([item('V1', 'h1'), item('V2', 'h1')], T0);
    const [v1] = await s.claimDue(ORG, T0, 1, LEASE);
    await s.markSent(v1!.claim, { encounter: 'Encounter/e1' }, T0 + 1);
    await s.putLedger([{ organizationId: ORG, localKey: 'visit/V1/encounter', resourceType: 'Encounter', satusehatId: 'e1', contentHash: 'c', updatedAt: T0 }]);
    await s.putIdentity({ kind: 'practitioner', organizationId: ORG, keyHash: 'hm', satusehatId: 'N100', updatedAt: T0 });
    await s.putFacilityState({ organizationId: ORG, status: 'paused', reason: 'operator', updatedAt: T0 });
    await s.putApiKey({ keyHash: 'k', organizationId: ORG, role: 'facility', label: 'pkm' });
    const before = { v1: await s.getVisit(ORG, 'V1'), v2: await s.getVisit(ORG, 'V2'), counts: await s.counts(), history: await s.visitHistory!(ORG, 'V1') };
    await s.close();
    await s.close(); // idempotent

    for (let i = 0; i < 2; i++) {
      s = openSqliteStore({ file });
      expect({ v1: await s.getVisit(ORG, 'V1'), v2: await s.getVisit(ORG, 'V2'), counts: await s.counts(), history: await s.visitHistory!(ORG, 'V1') }).toEqual(before);
      expect((await s.getLedger(ORG, 'visit/V1/encounter'))?.satusehatId).toBe('e1');
      expect((await s.getIdentity('practitioner', ORG, 'hm'))?.satusehatId).toBe('N100');
      expect((await s.getFacilityState(ORG))?.status).toBe('paused');
      expect((await s.findApiKey('k'))?.label).toBe('pkm');
      expect(await s.ingest([item('V2', 'h1')], T0 + 5)).toEqual(['unchanged']);
      await s.close();
    }
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(migrations.map((m) => ({ version: m.version })));
    db.close();
  });

  it('upgrades a version-1 database in place: facility states keep their status and gain an empty hold cause', async () => {
    const file = path.join(dir, 'v1.db');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec(migrations[0]!.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, ?)').run(migrations[0]!.name, T0);
    db.prepare("INSERT INTO facility_state (org, status, reason, not_before, updated_at) VALUES (?, 'auth-failed', 'old', ?, ?)").run(ORG, T0 + 60_000, T0);
    db.close();
    const s = openSqliteStore({ file });
    expect(await s.getFacilityState(ORG)).toEqual({ organizationId: ORG, status: 'auth-failed', reason: 'old', notBefore: T0 + 60_000, updatedAt: T0 });
    await s.putFacilityState({ organizationId: ORG, status: 'config-error', cause: 'url', reason: 'wrong URL', updatedAt: T0 + 1 });
    expect(await s.getFacilityState(ORG)).toMatchObject({ status: 'config-error', cause: 'url' });
    await expect(s.putFacilityState({ organizationId: ORG, status: 'paused', cause: 'nonsense' as never, updatedAt: T0 + 2 })).rejects.toHaveProperty('message', expect.stringMatching(/CHECK constraint/));
    await s.close();
  });

  it('upgrades a database of the schema before history messages (migration 12): its history entries stay readable as stored', async () => {
    const file = path.join(dir, 'v10.db');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of migrations.filter((x) => x.version < 12)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, T0);
    }
    db.prepare(`INSERT INTO visits (org, visit_id, revision, content_hash, record, state, attempts, next_attempt_at, created_at, updated_at)
      VALUES (?, 'V1', 1, 'h', '{}', 'blocked', 1, ?, ?, ?)`).run(ORG, T0, T0, T0);
    db.prepare(`INSERT INTO visit_events (org, visit_id, revision, from_state, to_state, at, attempts, error)
      VALUES (?, 'V1', 1, 'sending', 'blocked', ?, 1, 'error/transient: SATUSEHAT answered 503')`).run(ORG, T0);
    db.close();
    const s = openSqliteStore({ file });
    expect(await s.visitHistory!(ORG, 'V1')).toEqual([
      { revision: 1, fromState: 'sending', toState: 'blocked', at: T0, attempts: 1, error: 'error/transient: SATUSEHAT answered 503' },
    ]);
    await s.close();
  });

  it('refuses a database written by a newer version, with a clear error, and leaves it untouched', async () => {
    const file = path.join(dir, 'c.db');
    await openSqliteStore({ file }).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(99, 'from the future', T0);
    db.close();
    expect(() => openSqliteStore({ file })).toThrow(StoreSchemaError);
    expect(() => openSqliteStore({ file })).toThrow(new RegExp(`schema version 99 is newer.*\\(${latestSchemaVersion}\\)`));
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 99 });
    check.close();
  });

  it('rolls back a migration that fails half-way', () => {
    const file = path.join(dir, 'd.db');
    // A pre-existing table with a clashing name makes migration 1 fail after its first statements. Our (empty)
    // schema_migrations beside it: what a first start that failed half-way leaves; without it the file is foreign.
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec('CREATE TABLE ledger (x INTEGER)');
    db.close();
    expect(() => openSqliteStore({ file })).toThrow(/ledger already exists/);
    const check = new Database(file, { readonly: true });
    const tables = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
    check.close();
    expect(tables).not.toContain('visits');
    expect(tables).toContain('schema_migrations');
  });

  it('sees committed work from another connection to the same file', async () => {
    const file = path.join(dir, 'e.db');
    const a = openSqliteStore({ file });
    const b = openSqliteStore({ file });
    try {
      await a.ingest([item('V1', 'h1')], T0);
      const claimed = await b.claimDue(ORG, T0, 10, LEASE);
      expect(claimed.map((r) => r.visitId)).toEqual(['V1']);
      expect(await a.claimDue(ORG, T0, 10, LEASE)).toEqual([]);
      expect(await a.markSent(claimed[0]!.claim, {}, T0 + 1)).toBe(true);
      expect((await b.getVisit(ORG, 'V1'))!.state).toBe('sent');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('migration 10 counts the claims the history shows, so a visit claimed before an upgrade never looks new', async () => {
    const file = path.join(dir, 'v6.db');
    const db = databaseAtVersion(file, 6, T0);
    const visit = db.prepare(`INSERT INTO visits (org, visit_id, revision, content_hash, record, state, attempts, next_attempt_at, lease_until, created_at, updated_at)
                              VALUES (?, ?, ?, 'h', '{}', ?, ?, ?, ?, ?, ?)`);
    const event = db.prepare('INSERT INTO visit_events (org, visit_id, revision, from_state, to_state, at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)');
    // NEW: queued, never claimed. REVISED: sent once, then a revision (attempts back to 0). FLIGHT: left `sending` by
    // the stopped version (its lease ran out). PRUNED: queued, its early history gone.
    visit.run(ORG, 'NEW', 1, 'queued', 0, T0, null, T0, T0);
    event.run(ORG, 'NEW', 1, null, 'queued', T0, 0);
    visit.run(ORG, 'REVISED', 2, 'queued', 0, T0, null, T0, T0);
    event.run(ORG, 'REVISED', 1, null, 'queued', T0, 0);
    event.run(ORG, 'REVISED', 1, 'queued', 'sending', T0, 1);
    event.run(ORG, 'REVISED', 1, 'sending', 'sent', T0, 1);
    event.run(ORG, 'REVISED', 2, 'sent', 'queued', T0, 0);
    visit.run(ORG, 'FLIGHT', 1, 'sending', 1, T0, T0 + LEASE, T0, T0);
    event.run(ORG, 'FLIGHT', 1, null, 'queued', T0, 0);
    event.run(ORG, 'FLIGHT', 1, 'queued', 'sending', T0, 1);
    visit.run(ORG, 'PRUNED', 3, 'queued', 0, T0, null, T0, T0);
    event.run(ORG, 'PRUNED', 3, 'needs-correction', 'queued', T0, 0);
    db.close();

    const s = openSqliteStore({ file });
    try {
      // The in-flight claim of the stopped process counts as claim 1: its outcome could still be recorded under it.
      expect(await s.renewLease({ organizationId: ORG, visitId: 'FLIGHT', revision: 1, claimSeq: 1 }, T0 + LEASE)).toBe(true);
      const claims = await s.claimDue(ORG, T0 + LEASE, 10, LEASE);
      expect(Object.fromEntries(claims.map((r) => [r.visitId, [r.claim.claimSeq, r.claimedBefore]]))).toEqual({
        NEW: [1, false], REVISED: [2, true], FLIGHT: [2, true], PRUNED: [2, true],
      });
    } finally {
      await s.close();
    }
  });
});
