// `ilp-adapter keys create|list|revoke|hash` against a service database chosen by the environment (DATA_DIR).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { keysCommand } from '../../src/cli/commands/keys.js';
import { openStore } from '../../src/store/index.js';
import { hashApiKey } from '../../src/app/keys.js';
import { context, NOW } from './helpers.js';

const deps = { validator: { validate: () => { throw new Error('unused'); } } as never, mapper: (() => { throw new Error('unused'); }) as never };
const ORG = '10000004'; // the sample facility of sandbox-simulator mode (no FACILITIES_FILE)

describe('ilp-adapter keys', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-keys-'));
    process.env = { ...saved, DATA_DIR: dir, ILP_LANG: 'en' };
    delete process.env.FACILITIES_FILE;
    delete process.env.DATABASE_URL;
    delete process.env.ADMIN_API_KEY;
  });
  afterEach(() => {
    process.env = { ...saved };
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = async (...argv: string[]) => {
    const c = context('', deps);
    const code = await runCli(['keys', ...argv], c, [keysCommand]);
    return { code, out: c.out.text, err: c.err.text };
  };
  const database = () => path.join(dir, 'ilp-adapter.db');
  const rows = async () => {
    const s = await openStore({ dataDir: dir });
    try {
      return s.listApiKeys();
    } finally {
      await s.close();
    }
  };

  it('create stores the sha256 with org, label, source cli and the time, prints the key once and names the database', async () => {
    const r = await run('create', '--org', ORG, '--label', 'SIMPUS Contoh');
    expect(r.code).toBe(0);
    const key = r.out.trim();
    expect(key).toMatch(/^ilp_[A-Za-z0-9_-]{32}$/);
    expect(r.err).toBe(`Stored the sha256 of a new API key for organization ${ORG} (SIMPUS Contoh) in ${database()}. The key above is shown only once.\n`);
    expect(await rows()).toEqual([{ keyHash: hashApiKey(key), organizationId: ORG, role: 'facility', label: 'SIMPUS Contoh', source: 'cli', createdAt: NOW.getTime() }]);
  });

  it('create refuses an organization that is not in the facilities file, listing the configured ones; nothing is stored', async () => {
    const r = await run('create', '--org', '10009999');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^organization 10009999 is not in the facilities file .*facilities\.simulator\.json \(configured: 10000004\)\n$/);
    expect((await run('create', '--org', 'not an id')).err).toMatch(/--org must be a SATUSEHAT Organization id/);
    expect(fs.existsSync(database()) ? await rows() : []).toEqual([]);
  });

  it('list shows hash prefix, org, source, times and label, never the key; --json one object per key', async () => {
    const key = (await run('create', '--org', ORG, '--label', 'A')).out.trim();
    const list = await run('list');
    expect(list.code).toBe(0);
    expect(list.out).not.toContain(key);
    expect(list.out).not.toContain(hashApiKey(key)); // only a prefix
    const lines = list.out.trim().split('\n');
    expect(lines[0]).toMatch(/^hash +org +source +created +revoked +label$/);
    expect(lines[1]).toMatch(new RegExp(`^${hashApiKey(key).slice(0, 12)}  ${ORG}    cli     ${NOW.toISOString()}  active +A$`));
    const json = await run('list', '--json');
    expect(JSON.parse(json.out)).toEqual({ hashPrefix: hashApiKey(key).slice(0, 12), organizationId: ORG, role: 'facility', source: 'cli', label: 'A', createdAt: NOW.toISOString() });
  });

  it('revoke by label or hash prefix; refuses an unknown, an ambiguous and an already revoked key', async () => {
    const k1 = (await run('create', '--org', ORG, '--label', 'same')).out.trim();
    const k2 = (await run('create', '--org', ORG, '--label', 'same')).out.trim();
    const ambiguous = await run('revoke', 'same');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toContain('2 active keys match same: give a longer hash prefix');
    expect((await rows()).every((k) => k.revokedAt === undefined)).toBe(true);

    const byPrefix = await run('revoke', hashApiKey(k1).slice(0, 8));
    expect(byPrefix.code).toBe(0);
    expect(byPrefix.out).toContain(`Revoked key ${hashApiKey(k1).slice(0, 12)} (${ORG}, same) in ${database()}`);
    const after = new Map((await rows()).map((k) => [k.keyHash, k]));
    expect(after.get(hashApiKey(k1))?.revokedAt).toBe(NOW.getTime());
    expect(after.get(hashApiKey(k2))?.revokedAt).toBeUndefined();

    // Only k2 is active under the label now.
    expect((await run('revoke', 'same')).code).toBe(0);
    const again = await run('revoke', hashApiKey(k2).slice(0, 10));
    expect(again).toMatchObject({ code: 1, err: expect.stringContaining('was already revoked at') });
    const none = await run('revoke', 'nobody');
    expect(none).toMatchObject({ code: 2, err: expect.stringContaining('No key has the hash prefix or label nobody') });
    // A prefix shorter than 8 is read as a label, so it cannot match by accident.
    expect((await run('revoke', hashApiKey(k1).slice(0, 4))).code).toBe(2);
  });

  it('revoking a key imported from API_KEYS_FILE says to remove it from the file too', async () => {
    const s = await openStore({ dataDir: dir });
    await s.importApiKeys([{ keyHash: 'f'.repeat(64), organizationId: ORG, role: 'facility', label: 'from file' }], NOW.getTime());
    await s.close();
    const r = await run('revoke', 'from file');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/came from API_KEYS_FILE; remove it from that file too/);
    expect((await rows())[0]).toMatchObject({ source: 'file', revokedAt: NOW.getTime() });
  });

  it('speaks Bahasa Indonesia unless ILP_LANG=en', async () => {
    delete process.env.ILP_LANG;
    const r = await run('create', '--org', '10009999');
    expect(r.err).toMatch(/^organisasi 10009999 tidak ada di berkas fasilitas/);
  });

  it('hash prints the sha256 of a strong key and refuses a guessable one', async () => {
    const strong = 'q3K9vT2xLw8RbN5mZc7HdJ4s';
    expect(await run('hash', strong)).toEqual({ code: 0, out: `${hashApiKey(strong)}\n`, err: '' });
    const weak = await run('hash', 'puskesmas-sukaluyu-2026');
    expect(weak.code).toBe(2);
    expect(weak.out).toBe('');
    expect(weak.err).toMatch(/^key: contains an easily guessed word/);
  });
});
