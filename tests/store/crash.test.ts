// kill -9 in the middle of work: every acknowledged batch must be there, complete, and no batch may be half-written.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { packageRoot } from '../../src/util/paths.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { compileStore } from './helpers/compile-store.js';
import { HANG_MS } from '../helpers/eventually.js';

const CHILD = path.join(packageRoot, 'tests', 'store', 'fixtures', 'crash-child.mjs');
const BATCH = 50;
const PAD = 2000;
const ORGS = ['org-a', 'org-b', 'org-c'];

interface Run { acks: number[]; signal: NodeJS.Signals | null; stderr: string }

function runAndKill(storeModule: string, file: string, first: number, killAfter: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, storeModule, file, String(first), String(BATCH), String(PAD)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ACK (\d+)$/.exec(line);
        if (m) acks.push(Number(m[1]));
        if (acks.length === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ acks, signal, stderr }));
  });
}

/** Number of items of batch n present in the store (each checked for content). */
async function presentItems(store: Store, n: number): Promise<number> {
  let present = 0;
  for (let i = 0; i < BATCH; i++) {
    const row = await store.getVisit(ORGS[i % ORGS.length], `b${n}-${i}`);
    if (!row) continue;
    present++;
    const rec = row.record as { batch: number; item: number; filler: string };
    expect([rec.batch, rec.item, rec.filler.length, row.contentHash, row.revision]).toEqual([n, i, PAD, `h${n}-${i}`, 1]);
    expect(['queued', 'sending', 'sent']).toContain(row.state);
  }
  return present;
}

describe('SQLite store under kill -9', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-store-crash-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged batch and never keeps a partial one, across repeated crashes', async () => {
    const storeModule = compileStore(path.join(dir, 'store-js'));
    const file = path.join(dir, 'data', 'crash.db');
    let first = 0;
    for (const killAfter of [3, 12, 25, 40, 60]) {
      const run = await runAndKill(storeModule, file, first, killAfter);
      expect({ signal: run.signal, stderr: run.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
      expect(run.acks.length).toBeGreaterThanOrEqual(killAfter);

      const store = await openStore({ url: `sqlite:${file}` });
      try {
        // Acknowledged ⇒ complete.
        for (const n of run.acks) expect([n, await presentItems(store, n)]).toEqual([n, BATCH]);
        // Beyond the last acknowledgement: all-or-nothing, and nothing after the first absent batch.
        let n = run.acks[run.acks.length - 1] + 1;
        while (await presentItems(store, n) === BATCH) n++;
        for (let k = n; k < n + 5; k++) expect([k, await presentItems(store, k)]).toEqual([k, 0]);
        // The store's own counts agree with what is there: every batch from 0 to n-1, nothing else.
        const c = (await store.counts()).byState;
        expect(c.queued + c.sending + c.sent).toBe(n * BATCH);
        expect(c['needs-correction'] + c.blocked + c['dead-letter']).toBe(0);
        first = n;
        // Claims abandoned by the killed process come back once their lease has expired.
        const later = Date.now() + 61_000;
        let due = 0;
        for (const o of ORGS) due += (await store.claimDue(o, later, 1_000_000, 1)).length;
        expect(due).toBe(c.queued + c.sending);
        expect((await store.counts()).byState.sending).toBe(c.queued + c.sending);
      } finally {
        await store.close();
      }
      const db = new Database(file, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
    expect(first).toBeGreaterThanOrEqual(60);
  }, 3 * HANG_MS); // five child processes: a hang bound, several minutes beside other test runs
});
