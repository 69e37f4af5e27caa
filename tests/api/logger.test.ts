import { Writable } from 'node:stream';
import { createLogger, scrubForLog } from '../../src/util/logger.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const NIK = '3171012501900001';
const MOTHER_NIK = '3171014101880002';
const NAME = 'Siti Rahayu Wulandari';
const PHONE = '081234567890';
const SECRET = 'cs-very-secret-value-xyz';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.payload.sig';
const API_KEY = 'ak_live_7f3e9a1b2c';

const visit = {
  organizationId: '10000004',
  visitId: 'V-2025-0001',
  patient: {
    nik: NIK,
    motherNik: MOTHER_NIK,
    name: NAME,
    phone: PHONE,
    address: { line: 'Jl. Melati No. 5', villageCode: '3171011001' },
    birthDate: '2024-01-15',
  },
  practitioner: { nik: '3171010101800003', name: 'dr. Budi' },
};

describe('createLogger redaction', () => {
  it('prints no NIK, name, phone, address or secret when logging a visit record at any depth', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    log.info({ visit }, 'visit received');
    log.info({ deep: { a: { b: { c: { d: { e: { patient: visit.patient } } } } } } }, 'deeply nested');
    log.info({ list: [[{ nik: NIK }], { x: [{ name: NAME }] }] }, 'inside arrays');
    const text = out.text();
    for (const s of [NIK, MOTHER_NIK, NAME, PHONE, 'Jl. Melati', '3171010101800003', 'dr. Budi']) expect(text).not.toContain(s);
    // Non-sensitive fields survive, so logs stay useful.
    expect(text).toContain('V-2025-0001');
    expect(text).toContain('10000004');
    expect(text).toContain('visit received');
    expect(text).toContain('[REDACTED]');
    expect(text).toContain('"name":"ilp-adapter"'); // the logger's own name binding is not censored
  });

  it('drops request headers, query strings and bodies, and secrets in config objects', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    const req = {
      method: 'POST',
      originalUrl: `/ilp/visits?identifier=nik|${NIK}`,
      headers: { authorization: `Bearer ${TOKEN}`, 'x-api-key': API_KEY, cookie: 'sid=abc' },
      body: visit,
    };
    log.info({ req }, 'request');
    log.info({ headers: req.headers, body: visit, payload: { patient: visit.patient } }, 'raw');
    log.warn({ facility: { clientId: 'client-1', clientSecret: SECRET, apiKey: API_KEY }, token: { access_token: TOKEN } }, 'config');
    const text = out.text();
    for (const s of [NIK, NAME, PHONE, TOKEN, API_KEY, SECRET, 'sid=abc']) expect(text).not.toContain(s);
    expect(text).toContain('"path":"/ilp/visits"');
    expect(text).toContain('client-1');
  });

  it('masks identifier-like digit runs in messages and error messages', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.stream });
    log.info(`lookup failed for ${NIK}`);
    let parseError: unknown;
    try {
      JSON.parse(`{"nik": "${NIK}", "name": "${NAME}" oops}`);
    } catch (e) {
      parseError = e;
    }
    log.error({ err: parseError }, 'parse failed');
    log.error(new Error(`patient ${NIK} / ${PHONE} not found`));
    const text = out.text();
    for (const s of [NIK, PHONE, NAME]) expect(text).not.toContain(s);
    expect(text).toContain('SyntaxError');
    expect(text).toContain('parse failed');
  });

  it('honours LOG_LEVEL and an explicit level', () => {
    const out = capture();
    const prev = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    try {
      const log = createLogger({ destination: out.stream });
      log.info('hidden');
      log.warn('shown');
    } finally {
      if (prev === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = prev;
    }
    expect(out.text()).not.toContain('hidden');
    expect(out.text()).toContain('shown');
  });

  it('scrubForLog leaves the original object untouched and survives cycles', () => {
    const o: Record<string, unknown> = { nik: NIK, keep: 1 };
    o.self = o;
    const s = scrubForLog(o) as Record<string, unknown>;
    expect(s.nik).toBe('[REDACTED]');
    expect(s.keep).toBe(1);
    expect(s.self).toBe('[circular]');
    expect(o.nik).toBe(NIK);
  });
});

describe('log line timestamps and the shutdown line', () => {
  it('every line carries an ISO 8601 UTC time', () => {
    const out = capture();
    createLogger({ level: 'info', destination: out.stream }).info({ n: 1 }, 'hello');
    const line = JSON.parse(out.text()) as { time: unknown };
    expect(line.time).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));
    expect(Math.abs(Date.parse(line.time as string) - Date.now())).toBeLessThan(60_000);
  });

  it('a clean shutdown logs one line that it stopped, with how long it took', async () => {
    const { startService } = await import('../../src/service.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'log-stop-'));
    const out = capture();
    try {
      const svc = await startService({ PORT: '0', DATA_DIR: dir, SYNC_ENABLED: 'false', VALIDATE_WORKERS: '0', LOG_LEVEL: 'info' }, { logDestination: out.stream });
      await svc.close();
      const lines = out.text().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; ms?: unknown; time: string });
      const stopped = lines.filter((l) => l.msg === 'ilp-adapter stopped');
      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatchObject({ ms: expect.any(Number), deliveriesAbandoned: 0, time: expect.stringMatching(/Z$/) });
      expect(lines[lines.length - 1]!.msg).toBe('ilp-adapter stopped');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
