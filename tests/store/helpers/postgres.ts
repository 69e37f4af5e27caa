// A real PostgreSQL server for the store tests: PG_TEST_URL when set (CI starts one), else a throwaway cluster this
// file starts itself (scripts/pg-test-cluster.sh) when the binaries are installed, else the suites are skipped and say
// so on stderr. REQUIRE_POSTGRES=1 (CI) turns that skip into a failure.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SCRIPT = path.resolve('scripts/pg-test-cluster.sh');

/** The directory of initdb/pg_ctl, or undefined when PostgreSQL is not installed. */
export function postgresBin(): string | undefined {
  if (process.env.PG_BIN) return existsSync(path.join(process.env.PG_BIN, 'pg_ctl')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(a) - Number(b));
  return versions.length ? path.join(root, versions[versions.length - 1]!, 'bin') : undefined;
}

export interface PgServer {
  /** URL of the server's maintenance database (never used by a store). */
  url: string;
  /** Our own throwaway cluster (restartable), or undefined for PG_TEST_URL's server. */
  dir?: string;
  /** A new empty database on this server; its URL. */
  newDatabase(): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /**
   * Stop and start of our own cluster (every connection is cut). 'fast' (the default) ends backends one by one, so a
   * backend waiting on a lock can be granted it and commit while the holder dies first; 'immediate' kills them all
   * without cleanup, so nothing in flight commits.
   */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

function serverAt(url: string, dir?: string): PgServer {
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    url,
    ...(dir ? { dir } : {}),
    async newDatabase() {
      const name = `t_${process.pid}_${Date.now().toString(36)}_${++counter}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async dropDatabase(dbUrl: string) {
      const name = new URL(dbUrl).pathname.slice(1);
      if (!/^t_[a-z0-9_]+$/.test(name)) throw new Error(`not a test database: ${name}`);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    async restart(mode = 'fast') {
      if (!dir) throw new Error('only a throwaway cluster started by the tests can be restarted');
      // The cluster commits asynchronously; an immediate stop would lose the last commits without this checkpoint.
      if (mode === 'immediate') await admin((c) => c.query('CHECKPOINT'));
      await run(SCRIPT, ['restart', dir, mode]);
    },
    async stop() {
      if (dir) await run(SCRIPT, ['stop', dir]);
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a throwaway cluster on a free loopback port (about a second). */
export async function startThrowawayServer(): Promise<PgServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries (apt-get install -y postgresql)');
  const { stdout } = await run(SCRIPT, ['start'], { env: { ...process.env, PG_BIN: bin, PG_PORT: String(await freePort()) } });
  const vars = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const u = new URL(vars.PG_TEST_URL!);
  u.pathname = '/postgres';
  return serverAt(u.toString(), vars.PG_TEST_DIR);
}

export type PgAvailability = 'url' | 'binaries' | 'none';

export function postgresAvailability(): PgAvailability {
  if (process.env.PG_TEST_URL) return 'url';
  return postgresBin() ? 'binaries' : 'none';
}

/**
 * `describe` with a server: `server()` inside the tests. `needsOwnCluster`: the tests restart the server, so they
 * start their own cluster even when PG_TEST_URL is set. Without a server: skipped loudly, or failing with REQUIRE_POSTGRES=1.
 */
export function describePostgres(name: string, body: (server: () => PgServer) => void, opts: { needsOwnCluster?: boolean } = {}): void {
  const have = postgresAvailability();
  const usable = opts.needsOwnCluster ? postgresBin() !== undefined : have !== 'none';
  if (!usable) {
    const why = opts.needsOwnCluster ? 'no PostgreSQL binaries to start a throwaway cluster' : 'no PG_TEST_URL and no PostgreSQL binaries';
    if (process.env.REQUIRE_POSTGRES === '1') {
      describe(name, () => it(`needs PostgreSQL (REQUIRE_POSTGRES=1): ${why}`, () => {
        throw new Error(`PostgreSQL suites cannot run: ${why} (apt-get install -y postgresql, or set PG_TEST_URL)`);
      }));
      return;
    }
    process.stderr.write(`\n*** SKIPPED: PostgreSQL suite "${name}": ${why} (apt-get install -y postgresql or set PG_TEST_URL; CI sets REQUIRE_POSTGRES=1) ***\n\n`);
    describe.skip(name, () => body(() => {
      throw new Error('skipped');
    }));
    return;
  }
  describe(name, () => {
    let srv: PgServer | undefined;
    beforeAll(async () => {
      const given = process.env.PG_TEST_URL;
      srv = given && !opts.needsOwnCluster ? serverAt(given) : await startThrowawayServer();
    });
    afterAll(async () => {
      await srv?.stop();
    });
    body(() => {
      if (!srv) throw new Error('the PostgreSQL server did not start');
      return srv;
    });
  });
}
