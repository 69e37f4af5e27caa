// SQLite only: migration 5's back-fill of the list columns (the query behaviour itself is in tests/store/contract/).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { databaseAtVersion } from './helpers/schema-version.js';

const ORG = '10000004';
const T0 = 1_750_000_000_000;

describe('migration 5', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-m5-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('back-fills setting, location_code and visit_start from the records of a version-4 database', async () => {
    const file = path.join(dir, 'v4.db');
    const db = databaseAtVersion(file, 4, T0);
    const insert = db.prepare(`INSERT INTO visits (org, visit_id, revision, content_hash, record, state, next_attempt_at, created_at, updated_at)
                               VALUES (?, ?, 1, 'h', ?, 'queued', 0, ?, ?)`);
    insert.run(ORG, 'OLD-1', JSON.stringify({ setting: 'posyandu', locationCode: 'POSY-01', start: '2026-10-05T08:30:00.500+07:00' }), T0, T0);
    insert.run(ORG, 'OLD-2', JSON.stringify({ setting: 7, start: 'not a date' }), T0, T0 + 1);
    insert.run(ORG, 'OLD-3', JSON.stringify({ start: '2026-10-05T01:30:00Z' }), T0, T0 + 2);
    db.close();

    const s = openSqliteStore({ file });
    const rows = await s.listVisits({ limit: 10 });
    expect(rows.find((r) => r.visitId === 'OLD-1')).toMatchObject({ setting: 'posyandu', locationCode: 'POSY-01', visitStart: Date.parse('2026-10-05T08:30:00.500+07:00') });
    const odd = rows.find((r) => r.visitId === 'OLD-2')!;
    expect(odd).not.toHaveProperty('setting');
    expect(odd).not.toHaveProperty('visitStart');
    expect(rows.find((r) => r.visitId === 'OLD-3')!.visitStart).toBe(Date.parse('2026-10-05T01:30:00Z'));
    await s.close();
  });
});
