// Health data at rest, end to end in sandbox-simulator mode: records with a known NIK, name and phone are pushed, one is
// refused, the rest delivered (every table gets rows), and the raw database files (db, -wal, -shm) are read as bytes:
// the NIK, name and phone appear nowhere, before and after the retention purge and a data key rotation. A purged visit
// still shows (200, content purged), the same record again is unchanged, and a revision after the purge is delivered
// over the same SATUSEHAT Encounter (exactly once at the simulator).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { startService, DEMO_ADMIN_KEY, DEMO_FACILITY_KEY } from '../../src/service.js';
import { mappingsDir } from '../../src/util/paths.js';
import { callService, captureLines } from './fixtures.js';

const NIK = '3273010508269931';
const NAME = 'Zulkarnain Wibisono Hartawan';
const PHONE = '081299887766';
const PRACTITIONER_NAME = 'Kusumawardhani Setyaningrum';
const DAY = 86_400_000;

const call = callService;

/** Every byte of the database and its companions, searched as UTF-8 and UTF-16 (SQLite can store either). */
function assertNoPersonalDataIn(dbFile: string): void {
  const files = [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].filter((f) => fs.existsSync(f));
  expect(files[0]).toBe(dbFile);
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const secret of [NIK, NAME, PHONE, PRACTITIONER_NAME, 'Zulkarnain']) {
      for (const enc of ['utf8', 'utf16le'] as const) {
        expect({ file: path.basename(f), secret, enc, found: bytes.includes(Buffer.from(secret, enc)) }).toEqual({ file: path.basename(f), secret, enc, found: false });
      }
    }
  }
}

function readBody(dbFile: string): string {
  const raw = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return String((raw.prepare('SELECT record FROM visits').get() as { record: string }).record);
  } finally {
    raw.close();
  }
}

const TABLES = ['visits', 'visit_events', 'ledger', 'identities', 'weighings', 'rejections', 'api_keys', 'facility_state'];

describe('health data at rest (SQLite, sandbox-simulator mode)', () => {
  it('keeps no NIK, name or phone in clear in any database file, through delivery, purge, revision and key rotation', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-at-rest-'));
    const dbFile = path.join(dir, 'ilp-adapter.db');
    const keysFile = path.join(dir, 'api-keys.json');
    fs.writeFileSync(keysFile, JSON.stringify({ keys: [{ organizationId: '10000004', sha256: createHash('sha256').update('file-key-for-the-audit-test-x1').digest('hex'), label: 'SIMPUS' }] }));
    const env = { PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false', API_KEYS_FILE: keysFile };
    let t = Date.UTC(2026, 11, 1, 8);
    const clock = () => t;
    const sample = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'infant-posyandu-immunization.visit.json'), 'utf8'));
    const visit = { ...sample, patient: { ...sample.patient, nik: NIK, name: NAME, phone: PHONE }, practitioner: { ...sample.practitioner, name: PRACTITIONER_NAME } };
    // Refused, with the NIK, name and phone typed into wrong fields: the rejection entry must not repeat them.
    const refused = {
      ...visit, visitId: `${visit.visitId}-X`, patient: { ...visit.patient, gender: NIK },
      measurements: [{ code: 'body-weight', value: Number(PHONE), unit: NAME }, ...visit.measurements.slice(1)],
    };
    const path1 = `/ilp/visits/${visit.organizationId}/${visit.visitId}`;

    const logs = captureLines();
    let svc = await startService(env, { logDestination: logs.stream, clock });
    let encounter: string;
    try {
      // A first start generates the data key beside the database, says so once, never prints it.
      const keyText = fs.readFileSync(path.join(dir, 'data-keys'), 'utf8');
      expect(fs.statSync(path.join(dir, 'data-keys')).mode & 0o777).toBe(0o600);
      const generated = logs.lines.filter((l) => l.includes('generated a data key'));
      expect(generated).toHaveLength(1);
      expect(generated[0]).toContain('keep the key apart from the database');
      const material = keyText.split('\n').find((l) => /^k\d{8}-[0-9a-f]{8}:/.test(l))!.split(':')[1]!;
      expect(logs.lines.join('\n')).not.toContain(material);

      const pushed = await call(svc, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, [visit, refused]);
      expect(pushed.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'rejected']);
      expect((await call(svc, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY)).body.sent).toBe(1);
      const shown = await call(svc, 'GET', path1, DEMO_FACILITY_KEY);
      expect(shown.body.state).toBe('sent');
      expect(shown.body.record.patient.nik).toBe(NIK); // sealed at rest, opened for the facility's own key
      encounter = shown.body.resources.encounter;
      // A pause and resume leave a facility_state row: every table now holds something to audit.
      expect((await call(svc, 'POST', `/sync/facilities/${visit.organizationId}/pause`, DEMO_ADMIN_KEY)).status).toBe(200);
      expect((await call(svc, 'POST', `/sync/facilities/${visit.organizationId}/resume`, DEMO_ADMIN_KEY)).status).toBe(200);

      const raw = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        for (const table of TABLES) expect({ table, rows: (raw.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n > 0 }).toEqual({ table, rows: true });
        expect(readBody(dbFile)).toMatch(/^enc:v1:k\d{8}-[0-9a-f]{8}:/);
      } finally {
        raw.close();
      }
      assertNoPersonalDataIn(dbFile); // while running: the -wal holds the latest pages

      // Past RETENTION_SENT_DAYS (30): the body goes, the row, hash, ledger and state stay.
      t += 31 * DAY;
      expect((await svc.maintain()).purged.sentBodies).toBe(1);
      const purged = await call(svc, 'GET', path1, DEMO_FACILITY_KEY);
      expect(purged.status).toBe(200);
      expect(purged.body).toMatchObject({ state: 'sent', resources: { encounter } });
      expect(purged.body.record).toBeUndefined();
      expect(purged.body.recordPurgedAt).toBe(new Date(t).toISOString());
      expect(purged.body.recordNote).toContain('RETENTION_SENT_DAYS');

      expect((await call(svc, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, visit)).body.status).toBe('unchanged');
      // A revision after the purge: delivered over the same Encounter (the ledger survived the purge), exactly once.
      const revised = { ...visit, end: '2026-10-05T09:20:00+07:00' };
      expect((await call(svc, 'POST', '/ilp/visits', DEMO_FACILITY_KEY, revised)).body.status).toBe('revised');
      expect((await call(svc, 'POST', '/sync/run?wait=true', DEMO_ADMIN_KEY)).body.sent).toBe(1);
      const after = await call(svc, 'GET', path1, DEMO_FACILITY_KEY);
      expect(after.body).toMatchObject({ state: 'sent', revision: 2, resources: { encounter } });
      expect(after.body.record.end).toBe(revised.end);
      expect(svc.simulator!.state.count('Encounter', visit.organizationId)).toBe(1);
      const atSimulator = svc.simulator!.state.get('Encounter', String(encounter).split('/')[1]!) as { period: { end: string } };
      expect(Date.parse(atSimulator.period.end)).toBe(Date.parse(revised.end));
    } finally {
      await svc.close();
    }
    assertNoPersonalDataIn(dbFile);

    // A new data key first in the key file: new bodies are sealed under it, the old key still opens, and the service
    // re-encrypts the older bodies in the background.
    const oldKeyId = /^enc:v1:(k\d{8}-[0-9a-f]{8}):/.exec(readBody(dbFile))![1];
    fs.writeFileSync(path.join(dir, 'data-keys'), `k2:${randomBytes(32).toString('base64')}\n${fs.readFileSync(path.join(dir, 'data-keys'), 'utf8')}`);
    svc = await startService(env, { logDestination: captureLines().stream, clock });
    try {
      expect(await svc.store.bodyKeyCounts()).toEqual({ byKey: { [oldKeyId!]: 1 }, purged: 0, currentKeyId: 'k2' });
      expect((await call(svc, 'GET', path1, DEMO_FACILITY_KEY)).body.record.patient.nik).toBe(NIK);
      expect((await svc.maintain()).reencrypted).toBe(1);
      expect(await svc.store.bodyKeyCounts()).toEqual({ byKey: { k2: 1 }, purged: 0, currentKeyId: 'k2' });
      expect((await call(svc, 'GET', path1, DEMO_FACILITY_KEY)).body.record.patient.name).toBe(NAME);
      expect((await svc.maintain()).reencrypted).toBe(0);
    } finally {
      await svc.close();
    }
    expect(readBody(dbFile)).toMatch(/^enc:v1:k2:/);
    assertNoPersonalDataIn(dbFile);
  });
});
