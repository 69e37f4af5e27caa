// `ilp-adapter sync --once` run from cron must not report success while a facility cannot deliver at all: a facility
// whose credentials SATUSEHAT refuses needs a human just like a needs-correction record does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { syncCommand, SYNC_EXIT } from '../../src/cli/commands/sync.js';
import { cliContext } from './cli-context.js';
import { openStore } from '../../src/store/index.js';
import { contentHash } from '../../src/sync/hash.js';
import { startSimulator } from '../../src/simulator/server.js';
import { LOCATION, makeVisit } from './fixtures.js';

const ctx = cliContext;

describe('ilp-adapter sync --once with a facility SATUSEHAT refuses', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('exits 1 and names the facility and its status (never the secret); the record waits, not dead-lettered', async () => {
    const org = '10000501';
    const sim = await startSimulator({ port: 0, clients: [{ clientId: 'cli-client', clientSecret: 'the-right-secret', organizationId: org }] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-cli-auth-'));
    try {
      fs.writeFileSync(path.join(dir, 'facilities.json'), JSON.stringify({ facilities: [{
        organizationId: org, environment: 'simulator', simulatorUrl: sim.url,
        credentials: { clientIdEnv: 'CLI_ID', clientSecretEnv: 'CLI_SECRET' },
        locations: { [LOCATION]: { name: 'Posyandu Uji', physicalType: 'si' } },
      }] }));
      const visit = makeVisit(1, { organizationId: org });
      const store = await openStore({ dataDir: dir });
      await store.ingest([{ organizationId: org, visitId: visit.visitId, record: visit, contentHash: contentHash(visit) }], Date.now());
      await store.close();
      process.env = { ...saved, DATA_DIR: dir, LOG_LEVEL: 'warn', FACILITIES_FILE: path.join(dir, 'facilities.json'), CLI_ID: 'cli-client', CLI_SECRET: 'a-wrong-secret-1234' };
      delete process.env.DATABASE_URL;

      const c = ctx();
      expect(await runCli(['sync', '--once'], c, [syncCommand])).toBe(SYNC_EXIT.ATTENTION);
      const summary = JSON.parse(c.out().trim());
      expect(summary).toMatchObject({ mode: 'configured', counts: { queued: 1 }, deadLetter: 0 });
      expect(summary.facilityProblems).toEqual([expect.objectContaining({ organizationId: org, status: 'auth-failed' })]);
      expect(c.out() + c.err()).not.toContain('a-wrong-secret-1234');

      // A facility an operator paused is reported but is no failure of the run.
      const paused = await openStore({ dataDir: dir });
      await paused.putFacilityState({ organizationId: org, status: 'paused', reason: 'paused by an operator', updatedAt: Date.now() });
      await paused.close();
      const c2 = ctx();
      expect(await runCli(['sync', '--once'], c2, [syncCommand])).toBe(SYNC_EXIT.OK);
      expect(JSON.parse(c2.out().trim()).facilityProblems).toEqual([expect.objectContaining({ organizationId: org, status: 'paused' })]);
    } finally {
      await sim.close();
    }
  });
});
