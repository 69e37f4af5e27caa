import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from '../../src/service.js';
import { startupFailureText } from '../../src/startup-text.js';
import { operatorLocale } from '../../src/i18n/index.js';
import { writeForeignDb } from '../store/helpers/damaged-files.js';

// What src/main.ts prints when the service cannot start: the real start-up refusal, said in ILP_LANG.
const refusal = async (env: NodeJS.ProcessEnv): Promise<unknown> => {
  try {
    await startService(env, { noHttp: true });
  } catch (e) {
    return e;
  }
  throw new Error('the service started');
};

describe('start-up refusals in the operator language', () => {
  it('configuration problems: Bahasa Indonesia by default, English with ILP_LANG=en, one line each', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ilp-startup-'));
    const env = { DATA_DIR: dataDir, SYNC_CRON: 'nope', PORT: '99999', SYNC_ENABLED: 'maybe' };
    const err = await refusal(env);
    expect(startupFailureText(err, operatorLocale({}))).toBe(
      'ilp-adapter: kesalahan konfigurasi\nKonfigurasi tidak valid:\n' +
        '  - PORT: harus bilangan bulat antara 0 dan 65535 (diberikan "99999")\n' +
        '  - SYNC_CRON: "nope" bukan ekspresi cron yang valid (mis. "*/5 * * * *")\n' +
        '  - SYNC_ENABLED: harus true atau false',
    );
    expect(startupFailureText(err, operatorLocale({ ILP_LANG: 'en' }))).toBe(
      'ilp-adapter: configuration error\nConfiguration is invalid:\n' +
        '  - PORT: must be an integer between 0 and 65535 (got "99999")\n' +
        '  - SYNC_CRON: "nope" is not a valid cron expression (e.g. "*/5 * * * *")\n' +
        '  - SYNC_ENABLED: must be true or false',
    );
  });

  it('a facilities file mistake and a data key file readable by others', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ilp-startup-'));
    const facilities = path.join(dataDir, 'facilities.json');
    writeFileSync(facilities, JSON.stringify({ facilities: [{ organizationId: 'A1', environment: 'mars' }] }));
    const err = await refusal({ DATA_DIR: dataDir, FACILITIES_FILE: facilities });
    expect(startupFailureText(err, 'id')).toContain(`  - ${facilities}: facility A1.environment: harus salah satu dari`);
    expect(startupFailureText(err, 'en')).toContain(`  - ${facilities}: facility A1.environment: must be one of`);

    const keyFile = path.join(dataDir, 'keys');
    writeFileSync(keyFile, `k1:${Buffer.alloc(32, 1).toString('base64')}\n`, { mode: 0o644 });
    const loose = await refusal({ DATA_DIR: dataDir, DATA_KEY_FILE: keyFile });
    expect(startupFailureText(loose, 'id')).toBe(`ilp-adapter: kesalahan konfigurasi\nKonfigurasi tidak valid:\n  - ${keyFile}: berkas kunci data dapat dibaca pengguna lokal lain (mode 0644); chmod 600 berkas itu`);
    expect(startupFailureText(loose, 'en')).toContain(`${keyFile}: the data key file is readable by other local users (mode 0644); chmod 600 it`);
  });

  it('a store refusal (an empty database file) names the file and the way out', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ilp-startup-'));
    writeFileSync(path.join(dataDir, 'ilp-adapter.db'), '');
    const err = await refusal({ DATA_DIR: dataDir });
    expect(startupFailureText(err, 'id')).toMatch(/^ilp-adapter: gagal dijalankan: .*ilp-adapter\.db kosong \(0 byte\)\..*Pulihkan basis data dari cadangan/);
    expect(startupFailureText(err, 'en')).toMatch(/^ilp-adapter: failed to start: .*ilp-adapter\.db is empty \(0 bytes\)\..*Restore the database from backup/);
  });

  it('another application\'s SQLite database: Bahasa Indonesia by default, English on request, the same facts', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ilp-startup-'));
    const file = path.join(dataDir, 'ilp-adapter.db');
    writeForeignDb(file);
    const err = await refusal({ DATA_DIR: dataDir });
    expect(startupFailureText(err, 'id')).toMatch(
      /^ilp-adapter: gagal dijalankan: .*ilp-adapter\.db adalah basis data SQLite milik aplikasi lain \(tidak ada tabel schema_migrations ilp-adapter; tabel: \w+.*\)\. Pulihkan basis data dari cadangan/);
    expect(startupFailureText(err, 'en')).toMatch(
      /^ilp-adapter: failed to start: .*ilp-adapter\.db is a SQLite database of another application \(no ilp-adapter schema_migrations table; tables: \w+.*\)\. Restore the database from backup/);
  });
});
