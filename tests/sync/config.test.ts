import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError, demoKeysExposure, isLoopbackHost, loadHmacKey, loadServiceConfig, parseApiKeysFile, parseFacilities, parseSecrets, parseSimulatorUrl, resolveFacilities,
} from '../../src/config/index.js';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

const good = {
  organizationId: '10000004',
  name: 'Puskesmas Contoh',
  environment: 'sandbox',
  credentials: { clientIdEnv: 'SS_ID', clientSecretEnv: 'SS_SECRET' },
  locations: { 'PSY-01': { name: 'Posyandu Mawar', physicalType: 'si' } },
};

describe('facilities file', () => {
  it('applies defaults and resolves secrets from the named environment variables', () => {
    const [e] = parseFacilities({ facilities: [good] });
    expect(e).toMatchObject({ timezone: 'Asia/Jakarta', quotaPerMinute: 150 });
    const [f] = resolveFacilities([e!], { SS_ID: 'id-1', SS_SECRET: 's3cr3t' }, undefined);
    expect(f).toMatchObject({
      organizationId: '10000004', clientId: 'id-1', clientSecret: 's3cr3t',
      authBaseUrl: 'https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1',
      fhirBaseUrl: 'https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1',
    });
  });

  it('production URLs come from the environment table', () => {
    const [e] = parseFacilities([{ ...good, environment: 'production' }]);
    const [f] = resolveFacilities([e!], { SS_ID: 'a', SS_SECRET: 'b' }, undefined);
    expect(f!.fhirBaseUrl).toBe('https://api-satusehat.kemkes.go.id/fhir-r4/v1');
  });

  it('reports every mistake, one line each, naming the facility and key', () => {
    const problems = problemsOf(() =>
      parseFacilities({
        facilities: [
          { ...good, environment: 'staging', timezone: 'Mars/Olympus', quotaPerMinute: 0, quotaPerMinut: 5 },
          { ...good, locations: { X: { name: '', physicalType: 'castle' } } },
          { organizationId: 12 },
        ],
      }),
    );
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringContaining('facility 10000004.environment: must be one of sandbox | production | simulator'),
      expect.stringContaining('timezone: "Mars/Olympus" is not an IANA time zone'),
      expect.stringContaining('quotaPerMinute: must be an integer'),
      expect.stringContaining('quotaPerMinut: unknown key'),
      expect.stringContaining('"10000004" appears more than once'),
      expect.stringContaining('locations.X.name: required'),
      expect.stringContaining('locations.X.physicalType: must be a location-physical-type code'),
      expect.stringContaining('facilities[2].organizationId: required'),
    ]));
  });

  it('refuses a location name with a control or bidi character (it is sent as Location.name), naming the code point only', () => {
    const problems = problemsOf(() => parseFacilities([{ ...good, locations: { A: { name: 'Posyandu \u202eMawar', physicalType: 'si' }, B: { name: 'Ruang\u0000', physicalType: 'ro' } } }]));
    expect(problems).toEqual([
      expect.stringMatching(/locations\.A\.name: contains a bidirectional control character \(U\+202E\) at position 10$/),
      expect.stringMatching(/locations\.B\.name: contains a control character \(U\+0000\) at position 6$/),
    ]);
    expect(problems.join('\n')).not.toMatch(/Mawar|Ruang/);
  });

  it('refuses secrets written into the file, without echoing them', () => {
    const problems = problemsOf(() => parseFacilities([{ ...good, clientSecret: 'hunter2', credentials: { clientIdEnv: 'A', clientSecretEnv: 'B', clientSecret: 'hunter3' } }]));
    expect(problems.join('\n')).toMatch(/clientSecret: secrets must not be in the facilities file/);
    expect(problems.join('\n')).not.toMatch(/hunter/);
  });

  it('a configured facility whose secret variable is missing is a start-up error (no silent fallback)', () => {
    const [e] = parseFacilities([good]);
    const problems = problemsOf(() => resolveFacilities([e!], { SS_ID: 'x' }, undefined, 'http://127.0.0.1:1'));
    expect(problems).toEqual(['facility 10000004: environment variable SS_SECRET (client secret) is not set']);
  });

  it('falls back to the secrets file by organization id; no credentials at all is an error', () => {
    const { credentials: _c, ...noCreds } = good;
    const [e] = parseFacilities([noCreds]);
    const secrets = parseSecrets({ '10000004': { clientId: 'a', clientSecret: 'b' } });
    expect(resolveFacilities([e!], {}, secrets)[0]!.clientSecret).toBe('b');
    expect(problemsOf(() => resolveFacilities([e!], {}, {}))[0]).toMatch(/no credentials/);
    expect(problemsOf(() => parseSecrets({ '10000004': { clientId: 'a' } }))[0]).toMatch(/clientId and clientSecret/);
  });

  it('simulator facilities must name their simulator: an origin or "bundled"; simulatorUrl is refused elsewhere', () => {
    const [e] = parseFacilities([{ ...good, environment: 'simulator', simulatorUrl: 'http://127.0.0.1:9090/' }]);
    expect(resolveFacilities([e!], { SS_ID: 'a', SS_SECRET: 'b' }, undefined)[0]!.authBaseUrl).toBe('http://127.0.0.1:9090/oauth2/v1');
    // Never a silent embedded simulator.
    expect(problemsOf(() => parseFacilities([{ ...good, environment: 'simulator' }]))[0]).toMatch(/simulatorUrl: required with environment "simulator".*"bundled"/);
    const [bundled] = parseFacilities([{ ...good, environment: 'simulator', simulatorUrl: 'bundled' }]);
    expect(problemsOf(() => resolveFacilities([bundled!], { SS_ID: 'a', SS_SECRET: 'b' }, undefined))[0]).toMatch(/no bundled simulator is running/);
    expect(resolveFacilities([bundled!], { SS_ID: 'a', SS_SECRET: 'b' }, undefined, 'http://127.0.0.1:4567')[0]!.fhirBaseUrl).toBe('http://127.0.0.1:4567/fhir-r4/v1');
    expect(problemsOf(() => parseFacilities([{ ...good, simulatorUrl: 'http://x' }]))[0]).toMatch(/only allowed with environment "simulator"/);
  });

  it('a simulatorUrl that names the FHIR or auth base is taken as its origin; any other path, query or scheme is named as the mistake', () => {
    for (const url of ['http://127.0.0.1:9090/fhir-r4/v1', 'http://127.0.0.1:9090/fhir-r4/v1/', 'http://127.0.0.1:9090/oauth2/v1']) {
      const [e] = parseFacilities([{ ...good, environment: 'simulator', simulatorUrl: url }]);
      const [f] = resolveFacilities([e!], { SS_ID: 'a', SS_SECRET: 'b' }, undefined);
      expect(f!.fhirBaseUrl).toBe('http://127.0.0.1:9090/fhir-r4/v1');
      expect(f!.authBaseUrl).toBe('http://127.0.0.1:9090/oauth2/v1');
    }
    expect(parseSimulatorUrl('http://127.0.0.1:9090/fhir')).toMatchObject({ problem: expect.stringMatching(/"\/fhir" is not a path the simulator serves; give the origin only/) });
    expect(parseSimulatorUrl('ftp://127.0.0.1:9090')).toMatchObject({ problem: expect.stringMatching(/http\(s\) origin/) });
    expect(parseSimulatorUrl('http://127.0.0.1:9090/?x=1')).toMatchObject({ problem: expect.stringMatching(/no query/) });
    expect(parseSimulatorUrl(42)).toMatchObject({ problem: expect.stringMatching(/must be "bundled" or an http\(s\) origin/) });
  });

  it('the example files of config/ work together as the README says (secrets file for the facility without credentials)', () => {
    const entries = parseFacilities(JSON.parse(fs.readFileSync('config/facilities.example.json', 'utf8')));
    const secrets = parseSecrets(JSON.parse(fs.readFileSync('config/secrets.example.json', 'utf8')));
    const env = { SATUSEHAT_100011961_CLIENT_ID: 'id', SATUSEHAT_100011961_CLIENT_SECRET: 'secret' };
    expect(resolveFacilities(entries, env, secrets).map((f) => [f.organizationId, f.environment])).toEqual([['100011961', 'sandbox'], ['100011962', 'production']]);
    expect(Object.keys(secrets)).toEqual(['100011962']);
  });

  it('rejects a document of the wrong shape', () => {
    expect(problemsOf(() => parseFacilities('nope'))[0]).toMatch(/expected \{"facilities"/);
    expect(problemsOf(() => parseFacilities({ facilities: [] }))[0]).toMatch(/is empty/);
  });
});

describe('service environment', () => {
  it('has working defaults', () => {
    const c = loadServiceConfig({}, '/srv');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: '/srv/data', syncCron: '*/5 * * * *', syncTimezone: 'Asia/Jakarta', syncEnabled: true, ingestMaxRecords: 500 });
    expect(c.sync.maxAttempts).toBe(8);
    // Every facility with due work is served at once: the global cap is well above one facility's concurrency.
    expect(c.sync).toMatchObject({ concurrency: 32, perFacilityConcurrency: 4, leaseMs: 120_000 });
    expect(loadServiceConfig({ SYNC_CONCURRENCY: '64' }, '/srv').sync.concurrency).toBe(64);
  });

  it('DISK_FREE_FLOOR_MB: 200 MB by default, 0 turns the floor off, nonsense is a problem', () => {
    expect(loadServiceConfig({}, '/srv').diskFreeFloorMb).toBe(200);
    expect(loadServiceConfig({ DISK_FREE_FLOOR_MB: '0' }, '/srv').diskFreeFloorMb).toBe(0);
    expect(problemsOf(() => loadServiceConfig({ DISK_FREE_FLOOR_MB: '-5' }, '/srv'))).toEqual([expect.stringMatching(/^DISK_FREE_FLOOR_MB: must be an integer between 0 and/)]);
  });

  it('reads the ingest quotas and the shutdown grace, and reports every bad one at once', () => {
    expect(loadServiceConfig({}, '/srv')).toMatchObject({ ingestRecordsPerMinute: 6_000, ingestMaxQueuedPerFacility: 100_000, shutdownGraceMs: 10_000 });
    expect(loadServiceConfig({ INGEST_RECORDS_PER_MINUTE: '600', INGEST_MAX_QUEUED_PER_FACILITY: '5000', SHUTDOWN_GRACE_MS: '0' }, '/srv'))
      .toMatchObject({ ingestRecordsPerMinute: 600, ingestMaxQueuedPerFacility: 5_000, shutdownGraceMs: 0 });
    expect(problemsOf(() => loadServiceConfig({ INGEST_RECORDS_PER_MINUTE: '0', INGEST_MAX_QUEUED_PER_FACILITY: 'lots', SHUTDOWN_GRACE_MS: '-1' }))).toEqual([
      expect.stringMatching(/^INGEST_RECORDS_PER_MINUTE: must be an integer between 1 and/),
      expect.stringMatching(/^INGEST_MAX_QUEUED_PER_FACILITY: must be an integer between 1 and/),
      expect.stringMatching(/^SHUTDOWN_GRACE_MS: must be an integer between 0 and 600000/),
    ]);
  });

  it('lists every bad variable without echoing secrets', () => {
    const problems = problemsOf(() =>
      loadServiceConfig({ PORT: '70000', SYNC_CRON: '61 * * * *', SYNC_TIMEZONE: 'Nowhere/City', ADMIN_API_KEY: 'short-secret', ILP_HMAC_KEY: 'abc', DATABASE_URL: 'mysql://u:pw@h/db', SYNC_MAX_ATTEMPTS: 'x' }),
    );
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PORT: must be an integer between 0 and 65535/),
      expect.stringMatching(/^SYNC_CRON: "61 \* \* \* \*" is not a valid cron expression/),
      expect.stringMatching(/^SYNC_TIMEZONE/),
      expect.stringMatching(/^ADMIN_API_KEY: too short/),
      expect.stringMatching(/^ILP_HMAC_KEY: must be at least 32 bytes/),
      expect.stringMatching(/^DATABASE_URL: use sqlite:<file>, sqlite::memory: or postgres:\/\//),
      expect.stringMatching(/^SYNC_MAX_ATTEMPTS/),
    ]));
    const text = problems.join('\n');
    expect(text).not.toContain('short-secret');
    expect(text).not.toContain('pw@');
  });
});

describe('loopback HOST (sandbox-simulator mode only listens there)', () => {
  it('tells loopback addresses from the others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect({ h, loop: isLoopbackHost(h) }).toEqual({ h, loop: true });
    for (const h of ['0.0.0.0', '::', '', '10.0.0.5', '192.168.1.1', '128.0.0.1', 'example.org', 'localhost.example.org', '::ffff:10.0.0.1', '1270.0.0.1']) {
      expect({ h, loop: isLoopbackHost(h) }).toEqual({ h, loop: false });
    }
  });

  it('explains the refusal without echoing anything but the host', () => {
    expect(demoKeysExposure('127.0.0.1')).toBeUndefined();
    const refusal = demoKeysExposure('0.0.0.0')!;
    expect(new ConfigError([refusal]).problems[0]).toMatch(/^HOST: "0\.0\.0\.0" is not a loopback address/);
    expect(new ConfigError([refusal]).render('id')).toMatch(/^Konfigurasi tidak valid:\n  - HOST: "0\.0\.0\.0" bukan alamat loopback/);
  });
});

describe('HMAC key', () => {
  it('is generated once under DATA_DIR (mode 600) and read back the next time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hmac-'));
    const a = loadHmacKey(undefined, dir);
    expect(a.origin).toBe('generated');
    expect(a.key.length).toBe(32);
    expect(fs.statSync(a.file!).mode & 0o777).toBe(0o600);
    const b = loadHmacKey(undefined, dir);
    expect(b.origin).toBe('file');
    expect(b.key.equals(a.key)).toBe(true);
    fs.writeFileSync(a.file!, 'garbage');
    expect(problemsOf(() => loadHmacKey(undefined, dir))[0]).toMatch(/does not hold a valid key/);
  });

  it('prefers ILP_HMAC_KEY', () => {
    const hex = 'ab'.repeat(32);
    expect(loadHmacKey(hex, '/nonexistent').key.toString('hex')).toBe(hex);
  });
});

describe('API keys file', () => {
  it('accepts sha256 hashes only', () => {
    const rows = parseApiKeysFile({ keys: [{ organizationId: '1', sha256: 'A'.repeat(64), label: 'simpus' }] });
    expect(rows).toEqual([{ keyHash: 'a'.repeat(64), organizationId: '1', role: 'facility', label: 'simpus' }]);
    const problems = problemsOf(() => parseApiKeysFile({ keys: [{ organizationId: '1', key: 'plain' }] }));
    expect(problems.join('\n')).toMatch(/never the key itself/);
    expect(problems.join('\n')).toMatch(/sha256: required/);
  });
});
