// `ilp-adapter sync --once` and `ilp-adapter keys` with the service configuration from the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { syncCommand } from '../../src/cli/commands/sync.js';
import { keysCommand } from '../../src/cli/commands/keys.js';
import { cliContext } from './cli-context.js';
import { openStore } from '../../src/store/index.js';
import { contentHash } from '../../src/sync/hash.js';
import { hashApiKey } from '../../src/app/keys.js';
import { mappingsDir } from '../../src/util/paths.js';

const ctx = cliContext;

describe('ilp-adapter sync --once', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('drains what is due, prints a summary, exits 0; without --once exits 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-'));
    const sample = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'toddler-growth-monitoring.visit.json'), 'utf8'));
    const store = await openStore({ dataDir: dir });
    await store.ingest([{ organizationId: sample.organizationId, visitId: sample.visitId, record: sample, contentHash: contentHash(sample) }], Date.now());
    await store.close();
    process.env = { ...saved, DATA_DIR: dir, LOG_LEVEL: 'warn' };
    delete process.env.FACILITIES_FILE;
    delete process.env.DATABASE_URL;

    const c = ctx();
    expect(await runCli(['sync', '--once'], c, [syncCommand])).toBe(0);
    const summary = JSON.parse(c.out().trim());
    expect(summary).toMatchObject({ sent: 1, mode: 'simulator', counts: { sent: 1, queued: 0 } });
    const reopened = await openStore({ dataDir: dir });
    expect((await reopened.getVisit(sample.organizationId, sample.visitId))!.state).toBe('sent');
    await reopened.close();

    const c2 = ctx();
    expect(await runCli(['sync'], c2, [syncCommand])).toBe(2);
    expect(c2.err()).toMatch(/only --once/);
  });

  it('exits 2 with the configuration problems when the configuration is wrong', async () => {
    process.env = { ...saved, SYNC_CRON: 'every minute', FACILITIES_FILE: '/nonexistent/facilities.json' };
    const c = ctx();
    expect(await runCli(['sync', '--once'], c, [syncCommand])).toBe(2);
    // Said like the service's own start-up refusal: Bahasa Indonesia by default, English with ILP_LANG=en.
    expect(c.err()).toMatch(/^ilp-adapter: kesalahan konfigurasi\n.*SYNC_CRON: "every minute" bukan ekspresi cron yang valid/s);
    process.env.ILP_LANG = 'en';
    const en = ctx();
    expect(await runCli(['sync', '--once'], en, [syncCommand])).toBe(2);
    expect(en.err()).toMatch(/SYNC_CRON: "every minute" is not a valid cron expression/);
  });
});

describe('ilp-adapter keys', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('create prints a new key once and stores only its sha256', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-keys-'));
    process.env = { ...saved, DATA_DIR: dir };
    delete process.env.DATABASE_URL;
    const c = ctx();
    expect(await runCli(['keys', 'create', '--org', '10000004', '--label', 'SIMPUS'], c, [keysCommand])).toBe(0);
    const key = c.out().trim();
    expect(key).toMatch(/^ilp_[A-Za-z0-9_-]{32}$/);
    const store = await openStore({ dataDir: dir });
    expect(await store.findApiKey(hashApiKey(key))).toMatchObject({ organizationId: '10000004', role: 'facility', label: 'SIMPUS' });
    await store.close();
    const raw = fs.readdirSync(dir).filter((f) => f.endsWith('.db')).map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1')).join('');
    expect(raw).not.toContain(key);

    const h = ctx();
    await runCli(['keys', 'hash', key], h, [keysCommand]);
    expect(h.out().trim()).toBe(hashApiKey(key));
  });
});
