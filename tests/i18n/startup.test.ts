import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService } from '../../src/service.js';
import { startupFailureText } from '../../src/startup-text.js';
import { operatorLocale } from '../../src/i18n/index.js';
import { writeForeignDb } from '../store/helpers/damaged-files.js';
import { ConfigError, parseFacilities } from '../../src/config/index.js';

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

  it('a checker\'s sentence inside a configuration problem (simulatorUrl shape, a location name\'s characters, DATA_KEYS) in the operator language', async () => {
    const facility = {
      organizationId: 'A1', environment: 'simulator', simulatorUrl: 'http://127.0.0.1:9090/fhir',
      credentials: { clientIdEnv: 'SS_ID', clientSecretEnv: 'SS_SECRET' }, locations: { L1: { name: 'Ruang\u0000', physicalType: 'ro' } },
    };
    let err: unknown;
    try {
      parseFacilities([facility]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const said = (locale: 'id' | 'en') => (err as ConfigError).render(locale).split('\n').slice(1);
    expect(said('id')).toEqual([
      '  - facilities file: facility A1.locations.L1.name: berisi karakter kontrol (U+0000) di posisi 6',
      '  - facilities file: facility A1.simulatorUrl: harus "bundled" atau origin http(s) seperti http://127.0.0.1:9090: "/fhir" bukan path yang dilayani simulator; berikan origin saja (layanan menambahkan /oauth2/v1 dan /fhir-r4/v1)',
    ]);
    expect(said('en')).toEqual([
      '  - facilities file: facility A1.locations.L1.name: contains a control character (U+0000) at position 6',
      '  - facilities file: facility A1.simulatorUrl: must be "bundled" or an http(s) origin such as http://127.0.0.1:9090: "/fhir" is not a path the simulator serves; give the origin only (the service adds /oauth2/v1 and /fhir-r4/v1)',
    ]);
    // The English problems (logs) are the same words as the English rendering.
    expect((err as ConfigError).problems.map((p) => `  - ${p}`)).toEqual(said('en'));

    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ilp-startup-'));
    const badKeys = await refusal({ DATA_DIR: dataDir, DATA_KEYS: 'k1:c2hvcnQ=' });
    expect(startupFailureText(badKeys, 'id')).toBe(
      'ilp-adapter: kesalahan konfigurasi\nKonfigurasi tidak valid:\n  - DATA_KEYS: kunci data k1 harus 32 byte dalam base64 (mis. `openssl rand -base64 32`)');
    expect(startupFailureText(badKeys, 'en')).toBe(
      'ilp-adapter: configuration error\nConfiguration is invalid:\n  - DATA_KEYS: data key k1 must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)');
  });
});
