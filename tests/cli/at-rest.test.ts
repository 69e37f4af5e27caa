// `ilp-adapter purge [--dry-run]` and `ilp-adapter keys rotate-data` on the service database (DATA_DIR), Bahasa
// Indonesia by default, English on --lang en.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli } from '../../src/cli/program.js';
import { openStore } from '../../src/store/index.js';
import { context, NOW } from './helpers.js';

const unused = { validator: () => { throw new Error('not used'); }, mapper: () => { throw new Error('not used'); } } as never;
const ORG = '10000004';
const DAY = 86_400_000;
const T = NOW.getTime();

describe('ilp-adapter purge / keys rotate-data', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-at-rest-'));
    process.env = { ...saved, DATA_DIR: dir };
    for (const k of ['FACILITIES_FILE', 'DATABASE_URL', 'DATA_KEYS', 'DATA_KEY_FILE', 'RETENTION_SENT_DAYS', 'HISTORY_RETENTION_DAYS', 'REJECTIONS_RETENTION_DAYS', 'ILP_LANG']) delete process.env[k];
    const store = await openStore({ dataDir: dir });
    const rec = (visitId: string) => ({ organizationId: ORG, visitId, patient: { nik: '3273010508260001', name: 'Muhammad Rafi' } });
    await store.ingest(['V1', 'V2', 'V3'].map((v) => ({ organizationId: ORG, visitId: v, record: rec(v), contentHash: v })), T - 40 * DAY);
    for (const r of await store.claimDue(ORG, T - 40 * DAY, 2, 60_000)) await store.markSent(r.claim, { encounter: `Encounter/${r.visitId}` }, T - 35 * DAY);
    await store.addRejections([{ organizationId: ORG, visitId: 'BAD', at: T - 31 * DAY, issues: [{ severity: 'error', code: 'value' }] }]);
    await store.close();
  });
  afterEach(() => {
    process.env = { ...saved };
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (...args: string[]) => {
    const ctx = context('', unused);
    const code = await runCli(args, ctx);
    return { code, out: ctx.out.text, err: ctx.err.text };
  };

  it('--dry-run shows counts per kind and the oldest date, in Indonesian, and changes nothing', async () => {
    const r = await run('purge', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'Yang akan dihapus sekarang menurut masa simpan (uji coba: tidak ada yang diubah):',
      `  isi rekaman terkirim (lebih dari 30 hari setelah terkirim; baris, hash isi dan id SATUSEHAT tetap): 2, tertua ${new Date(T - 35 * DAY).toISOString()}`,
      '  riwayat status kunjungan (lebih dari 90 hari): 0',
      `  entri penolakan (lebih dari 30 hari): 1, tertua ${new Date(T - 31 * DAY).toISOString()}`,
      '',
    ].join('\n'));
    const again = await run('purge', '--dry-run', '--lang', 'en', '--format', 'json');
    expect(JSON.parse(again.out)).toEqual({
      dryRun: true, retentionDays: { sentBodies: 30, visitEvents: 90, rejections: 30 },
      sentBodies: { count: 2, oldest: new Date(T - 35 * DAY).toISOString() }, visitEvents: { count: 0 }, rejections: { count: 1, oldest: new Date(T - 31 * DAY).toISOString() },
    });
  });

  it('purges, honouring RETENTION_SENT_DAYS and --now; the purged visit still shows', async () => {
    process.env.RETENTION_SENT_DAYS = '36';
    const now = (await run('purge', '--lang', 'en')).out;
    expect(now).toContain('bodies of sent records (more than 36 days after delivery; the row, content hash and SATUSEHAT ids stay): 0');
    expect(now).toContain('rejection entries (older than 30 days): 1');
    const later = await run('purge', '--lang', 'en', '--now', new Date(T + 2 * DAY).toISOString());
    expect(later.code).toBe(0);
    expect(later.out).toMatch(/^Removed under the retention periods:\n {2}bodies of sent records .*: 2, oldest /);
    expect(later.out).toContain('rejection entries (older than 30 days): 0');
    const show = await run('visits', 'show', ORG, 'V1', '--format', 'json', '--lang', 'en');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({ state: 'sent', recordPurgedAt: expect.any(String), recordNote: expect.stringContaining('purged') });
    expect((await run('purge', '--dry-run', '--now', new Date(T + 2 * DAY).toISOString(), '--format', 'json')).out).toContain('"sentBodies":{"count":0}');
    expect((await run('purge', '--now', 'besok')).code).toBe(2);
  });

  it('keys rotate-data re-encrypts under the newest key, with progress and a summary; a second run has nothing to do', async () => {
    const file = path.join(dir, 'data-keys');
    const oldId = /^(k[\w-]+):/m.exec(fs.readFileSync(file, 'utf8'))![1]!;
    fs.writeFileSync(file, `k-new:${randomBytes(32).toString('base64')}\n${fs.readFileSync(file, 'utf8')}`);
    const r = await run('keys', 'rotate-data', '--batch', '2');
    expect(r.code).toBe(0);
    expect(r.err).toContain('rotate-data: 3 isi rekaman dienkripsi ulang (2 batch)');
    expect(r.out).toContain('Selesai: 3 isi rekaman dienkripsi ulang dengan kunci data k-new. Per kunci sekarang: k-new 3; dihapus menurut masa simpan: 0.');
    expect(r.out).toContain('Kunci lama tidak dipakai lagi');
    expect(r.out).not.toContain(oldId);
    const again = await run('keys', 'rotate-data', '--lang', 'en');
    expect(again.out).toContain('Done: 0 record bodies re-encrypted under data key k-new');
    expect((await run('keys', 'rotate-data', '--batch', '0')).code).toBe(2);
  });

  it('exit 2 naming the key id when the database holds bodies under a key the keyring lacks', async () => {
    const oldId = /^(k[\w-]+):/m.exec(fs.readFileSync(path.join(dir, 'data-keys'), 'utf8'))![1]!;
    process.env.DATA_KEYS = `other:${randomBytes(32).toString('base64')}`;
    const r = await run('purge', '--dry-run');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`"${oldId}"`);
  });
});
