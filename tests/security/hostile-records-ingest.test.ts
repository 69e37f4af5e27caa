// The assembled service over real HTTP: records with a NUL or a bidi override in a name or an address, an unreal UTC offset, a
// prototype name as locationCode (not configured for the facility) or a patient's name typed as a key are refused at their field; none is stored, none is echoed
// in the answer or the log, and a clean record in the same batch is still accepted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startService, type RunningService } from '../../src/service.js';
import { makeVisit, LOCATION, captureLines } from '../e2e/fixtures.js';

const ORG = '10000401';
const KEY = 'hostile-records-key-0123456789abcd';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

describe('hostile records at POST /ilp/visits', () => {
  let svc: RunningService;
  let dir: string;
  const logs = captureLines();
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-hostile-'));
    const facilities = [{
      organizationId: ORG, environment: 'simulator', simulatorUrl: 'bundled',
      credentials: { clientIdEnv: 'SS_ID', clientSecretEnv: 'SS_SECRET' }, locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } },
    }];
    fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities }));
    fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ keys: [{ organizationId: ORG, sha256: sha(KEY) }] }));
    svc = await startService({
      PORT: '0', DATA_DIR: dir, FACILITIES_FILE: path.join(dir, 'facilities.json'), API_KEYS_FILE: path.join(dir, 'keys.json'),
      ADMIN_API_KEY: 'eaa1gC_taVtYkdPgFosXH7QH7HLNgwOE', SYNC_ENABLED: 'false', LOG_LEVEL: 'debug', SS_ID: 'client', SS_SECRET: 'secret',
    }, { logDestination: logs.stream });
  });
  afterAll(async () => {
    await svc?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown) => {
    const res = await fetch(`${svc.url}/ilp/visits`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const stored = async (visitId: string) => (await fetch(`${svc.url}/ilp/visits/${ORG}/${visitId}`, { headers: { authorization: `Bearer ${KEY}` } })).status;

  it('refuses each at its field, stores none, echoes nothing', async () => {
    const cases: Array<[string, (v: any) => void, string]> = [
      ['nul-name', (v) => { v.patient.name = `${v.patient.name}\u0000`; }, 'patient.name'],
      ['rlo-address', (v) => { v.patient.address.line = `Jl. \u202eMawar 12`; }, 'patient.address.line'],
      ['offset', (v) => { v.start = v.start.replace(/[+-]\d\d:\d\d$/, '+14:59'); }, 'start'],
      ['name-as-key', (v) => { v.patient[v.patient.name] = true; }, 'patient'],
    ];
    for (const [id, spoil, field] of cases) {
      const v = makeVisit(1, { organizationId: ORG }) as any;
      v.visitId = `HOSTILE-${id}`;
      spoil(v);
      const res = await post(v);
      expect({ id, status: res.status }).toEqual({ id, status: 422 });
      const outcome = JSON.parse(res.text);
      expect(outcome.issue.some((i: { expression?: string[] }) => i.expression?.[0] === field)).toBe(true);
      expect(res.text).not.toContain(v.patient.nik);
      expect(res.text).not.toContain(v.patient.name.replace('\u0000', ''));
      expect(await stored(v.visitId)).toBe(404);
    }
    expect(logs.lines.join('\n')).not.toMatch(/\\u0000|\\u202e|\u202e/i);
  });

  // An unknown location code is refused at push (README "Sync": not configured for the facility → 422 at locationCode):
  // a prototype name must be refused the same way, never looked up on an object's prototype, never sent to the platform.
  it('a prototype name as locationCode is refused at push like any unconfigured code; no Location is registered', async () => {
    const codes = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];
    for (const [n, code] of codes.entries()) {
      const v = makeVisit(10 + n, { organizationId: ORG }) as any;
      v.locationCode = code;
      const refused = await post(v);
      expect({ code, status: refused.status }).toEqual({ code, status: 422 });
      expect(JSON.parse(refused.text).issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain('locationCode');
      expect(await stored(v.visitId)).toBe(404);
    }
    const ok = makeVisit(20, { organizationId: ORG }) as any;
    expect((await post(ok)).status).toBe(202);
    await svc.drain();
    const sim = svc.simulator!.state;
    expect(sim.count('Location')).toBe(1);
    for (const code of codes) expect(sim.findByIdentifier('Location', `http://sys-ids.kemkes.go.id/location/${ORG}`, code)).toEqual([]);
    const okView = (await (await fetch(`${svc.url}/ilp/visits/${ORG}/${ok.visitId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { state: string };
    expect(okView.state).toBe('sent');
  });
});
