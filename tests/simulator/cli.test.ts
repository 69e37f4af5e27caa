import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseSimulatorFlags, simulatorCommand, startupBanner } from '../../src/cli/commands/simulator.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sim-cli-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('ilp-adapter simulator options', () => {
  it('parses every flag into simulator options', () => {
    const clients = file('clients.json', JSON.stringify([{ clientId: 'a', clientSecret: 's', organizationId: '1' }]));
    const niks = file('niks.json', JSON.stringify(['3171014501900003']));
    expect(parseSimulatorFlags({ port: '8089', host: '0.0.0.0', clients, quota: '60', latencyMs: '10-50', errorRate: '0.1', throttleRate: '0.02', timeoutRate: '0', dropAfterCommitRate: '0.05', tokenExpiry: '120', unknownNiks: niks, seed: '7' })).toEqual({
      port: 8089, host: '0.0.0.0', clients: [{ clientId: 'a', clientSecret: 's', organizationId: '1' }], quotaPerMinute: 60, latencyMs: { min: 10, max: 50 },
      errorRate5xx: 0.1, throttleRate: 0.02, timeoutRate: 0, dropAfterCommitRate: 0.05, tokenExpiryS: 120, unknownNiks: ['3171014501900003'], seed: 7,
    });
    expect(parseSimulatorFlags({})).toEqual({ port: 0, host: '127.0.0.1' });
    expect(parseSimulatorFlags({ latencyMs: '25' }).latencyMs).toBe(25);
  });

  it.each([
    [{ errorRate: '1.5' }, /--error-rate must be a number from 0 to 1/],
    [{ timeoutRate: 'abc' }, /--timeout-rate must be a number from 0 to 1/],
    [{ throttleRate: '1.01' }, /--throttle-rate must be a number from 0 to 1/],
    [{ dropAfterCommitRate: '-0.1' }, /--drop-after-commit-rate/],
    [{ port: '70000' }, /--port must be a whole number from 0 to 65535/],
    [{ quota: '1.5' }, /--quota must be a whole number/],
    [{ tokenExpiry: '0' }, /--token-expiry must be a whole number from 1/],
    [{ latencyMs: '50-10' }, /max must be ≥ min/],
    [{ latencyMs: 'fast' }, /--latency-ms must be N or MIN-MAX/],
    [{ clients: '/nonexistent/clients.json' }, /--clients \/nonexistent\/clients.json: cannot read the file \(ENOENT\)/],
    [{ clients: file('bad.json', '{not json') }, /--clients .*bad.json: not valid JSON/],
    [{ clients: file('obj.json', '{"clientId":"a"}') }, /expected a JSON array/],
    [{ clients: file('nosecret.json', '[{"clientId":"a","organizationId":"1"}]') }, /--clients .*: clients\[0\]\.clientSecret must be a non-empty string/],
    [{ unknownNiks: file('niks-bad.json', '["123"]') }, /--unknown-niks .*: expected a JSON array of 16-digit NIK strings/],
  ])('rejects %o with a clear message', (flags, message) => {
    expect(() => parseSimulatorFlags(flags)).toThrow(message);
  });

  it('says in its startup line that it is a test tool, not SATUSEHAT, with both base URLs and the demo credentials', () => {
    const banner = startupBanner({ authBaseUrl: 'http://127.0.0.1:1/oauth2/v1', fhirBaseUrl: 'http://127.0.0.1:1/fhir-r4/v1' }, { port: 0, host: '127.0.0.1' }, 5);
    expect(banner.split('\n')[0]).toMatch(/development and test tool\. This is NOT SATUSEHAT/);
    expect(banner).toContain('http://127.0.0.1:1/oauth2/v1');
    expect(banner).toContain('http://127.0.0.1:1/fhir-r4/v1');
    expect(banner).toContain('client_id=demo-client client_secret=demo-secret organizationId=10000004');
    const custom = startupBanner({ authBaseUrl: 'a', fhirBaseUrl: 'b' }, { port: 0, host: 'h', clients: [{ clientId: 'x', clientSecret: 'topsecret', organizationId: '9' }] }, 5);
    expect(custom).not.toContain('topsecret');
    expect(custom).not.toContain('demo-secret');
  });

  it('maps the recorded-or-documented flags through commander, defaults being as recorded', async () => {
    let seen: Record<string, unknown> | undefined;
    const cmd = simulatorCommand({ stdout: new PassThrough(), stderr: new PassThrough() });
    cmd.action((flags) => { seen = flags as Record<string, unknown>; });
    await cmd.exitOverride().parseAsync(['--patient-create-body', 'documented', '--error-style', 'documented', '--strict-search', '--patient-search-view', 'masked', '--no-require-diagnosis'], { from: 'user' });
    const o = parseSimulatorFlags(seen!);
    expect(o).toMatchObject({ patientCreateBody: 'documented', errorStyle: 'documented', strictSearch: true, patientSearchView: 'masked', requireDiagnosis: false });
    expect(startupBanner({ authBaseUrl: 'a', fhirBaseUrl: 'b' }, o, 1)).toContain('as recorded except patient create body, error style, strict search, patient search view masked, diagnosis not required');
    await cmd.parseAsync([], { from: 'user' });
    expect(parseSimulatorFlags(seen!)).toEqual({ port: 0, host: '127.0.0.1' });
    const banner = startupBanner({ authBaseUrl: 'a', fhirBaseUrl: 'b' }, { port: 0, host: 'h' }, 1);
    expect(banner).toContain('token expiry 14399 s');
    expect(banner).toContain('answers: as the platform was recorded answering');
    await expect(simulatorCommand().exitOverride().configureOutput({ writeErr: () => undefined }).parseAsync(['--error-style', 'kemkes'], { from: 'user' })).rejects.toThrow(/Allowed choices are recorded, documented/);
  });

  it('reports a bad flag on stderr with exit code 2 instead of starting', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const ctx = { stdout, stderr, exitCode: 0 };
    let errText = '';
    stderr.on('data', (d) => (errText += String(d)));
    await simulatorCommand(ctx).exitOverride().parseAsync(['--error-rate', '2'], { from: 'user' });
    expect(ctx.exitCode).toBe(2);
    expect(errText).toContain('--error-rate must be a number from 0 to 1');
  });
});
