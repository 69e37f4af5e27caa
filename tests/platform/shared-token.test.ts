// Two instances, one facility's token: two providers over one database (a SQLite file; PostgreSQL when a server is
// available) against nock. One token request between them, a failed auth locks both out, a 401 drops only the token
// that failed, and the token is sealed at rest.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import Database from 'better-sqlite3';
import { createTokenProvider, type TokenProvider } from '../../src/platform/token.js';
import { PlatformError } from '../../src/platform/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { parseDataKeys } from '../../src/store/record-codec.js';
import type { Store } from '../../src/store/types.js';
import { describePostgres } from '../store/helpers/postgres.js';
import { AUTH_ORIGIN, AUTH_PATH, BAD_CREDENTIALS, ORG, SECRET, facility, failure, tokenBody } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

const auth = () => nock(AUTH_ORIGIN).post(AUTH_PATH).query({ grant_type: 'client_credentials' });
const TOKEN = 'shared-bearer-token-0123456789';
const keyring = () => parseDataKeys(`k1:${randomBytes(32).toString('base64')}`, 'test keys');

interface Opened {
  stores: Store[];
  /** Every stored value of platform_tokens, as the database holds it. */
  rawTokens: () => Promise<string>;
  cleanup: () => Promise<void>;
}

function sharedTokenSuite(open: () => Promise<Opened>): void {
  let opened: Opened;
  let a: TokenProvider;
  let b: TokenProvider;
  beforeEach(async () => {
    opened = await open();
    [a, b] = opened.stores.map((store) => createTokenProvider(facility(), { shared: store, transientCooldownMs: 0 })) as [TokenProvider, TokenProvider];
  });
  afterEach(async () => {
    await opened.cleanup();
  });

  it('makes exactly one token request for both instances, however many callers ask at once', async () => {
    let calls = 0;
    const scope = auth().times(3).reply(() => [200, tokenBody(`${TOKEN}-${++calls}`)]);
    const got = await Promise.all([...Array.from({ length: 5 }, () => a.get()), ...Array.from({ length: 5 }, () => b.get())]);
    expect(calls).toBe(1);
    expect(new Set(got)).toEqual(new Set([`${TOKEN}-1`]));
    expect(scope.pendingMocks()).toHaveLength(1); // two of the three answers were never asked for
    // Sealed at rest: the token is not in the database in clear.
    const raw = await opened.rawTokens();
    expect(raw).toContain('enc:v1:k1:');
    expect(raw).not.toContain(TOKEN);
  });

  it('a failed auth locks out both instances: the other makes no request of its own', async () => {
    const scope = auth().once().reply(401, BAD_CREDENTIALS);
    const first = await failure(a.get());
    expect(first).toBeInstanceOf(PlatformError);
    expect(first.kind).toBe('auth');
    expect(scope.isDone()).toBe(true);
    const second = await failure(b.get());
    expect(second.kind).toBe('auth');
    expect(second.status).toBe(401);
    expect(second.retryAfterMs).toBeGreaterThan(50_000);
    expect(second.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(b.state()).toMatchObject({ state: 'auth-failed' });
    // Nothing of the secret in what the other instance was told.
    expect(JSON.stringify(second.outcome)).not.toContain(SECRET);
    expect(await opened.rawTokens()).not.toContain(SECRET);
  });

  it('a 401 drops only the token that failed: one refresh for both, and a late 401 for the old token drops nothing', async () => {
    let calls = 0;
    auth().times(3).reply(() => [200, tokenBody(`${TOKEN}-${++calls}`)]);
    expect(await a.get()).toBe(`${TOKEN}-1`);
    expect(await b.get()).toBe(`${TOKEN}-1`);
    await a.invalidate(`${TOKEN}-1`);
    expect(await a.get()).toBe(`${TOKEN}-2`);
    await b.invalidate(`${TOKEN}-1`); // B's late 401 for the token A already replaced
    expect(await b.get()).toBe(`${TOKEN}-2`);
    expect(calls).toBe(2);
  });
}

describe('shared token cache over one SQLite file', () => {
  sharedTokenSuite(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-shared-token-'));
    const file = path.join(dir, 'shared.db');
    const codec = keyring();
    const stores = [openSqliteStore({ file, codec }), openSqliteStore({ file, codec })];
    return {
      stores,
      async rawTokens() {
        const db = new Database(file, { readonly: true });
        try {
          return JSON.stringify(db.prepare('SELECT * FROM platform_tokens').all()) + readFileSync(file, 'latin1');
        } finally {
          db.close();
        }
      },
      async cleanup() {
        for (const s of stores) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describePostgres('shared token cache over one PostgreSQL database', (server) => {
  sharedTokenSuite(async () => {
    const url = await server().newDatabase();
    const codec = keyring();
    const stores: Store[] = [await openPostgresStore({ url, poolMax: 2, codec }), await openPostgresStore({ url, poolMax: 2, codec })];
    return {
      stores,
      async rawTokens() {
        const pg = (await import('pg')).default;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return JSON.stringify((await c.query('SELECT * FROM platform_tokens')).rows);
        } finally {
          await c.end();
        }
      },
      async cleanup() {
        for (const s of stores) await s.close();
        await server().dropDatabase(url);
      },
    };
  });
});

it('the shared cache is keyed by organization: another facility has its own token', async () => {
  const store = openSqliteStore({ file: ':memory:' });
  try {
    await store.putSharedToken(ORG, { token: { value: 'T-A', lifetimeMs: 100_000, refreshInMs: 50_000 } }, 'x', Date.now());
    expect((await store.getSharedToken('other-org', Date.now())).token).toBeUndefined();
  } finally {
    await store.close();
  }
});
