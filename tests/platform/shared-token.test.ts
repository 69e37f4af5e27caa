// Two instances, one facility's token: two providers over one database (a SQLite file; PostgreSQL when a server is
// available) against nock. One token request between them, a failed auth locks both out, a 401 drops only the token
// that failed, and the token is sealed at rest.
import { randomBytes } from 'node:crypto';
import { createTokenProvider, type TokenProvider } from '../../src/platform/token.js';
import { PlatformError } from '../../src/platform/types.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { parseDataKeys } from '../../src/store/record-codec.js';
import { describePostgres } from '../store/helpers/postgres.js';
import { postgresInstances, sqliteInstances, type Instances } from '../store/helpers/instances.js';
import { BAD_CREDENTIALS, ORG, SECRET, facility, failure, offlineWithNock, tokenBody, tokenEndpoint } from './helpers.js';

offlineWithNock();
const auth = tokenEndpoint;
const TOKEN = 'shared-bearer-token-0123456789';
const keyring = () => parseDataKeys(`k1:${randomBytes(32).toString('base64')}`, 'test keys');

/** Every stored value of platform_tokens, as the database holds it. */
const rawTokens = async (db: Instances) => JSON.stringify(await db.rows('SELECT * FROM platform_tokens'));

function sharedTokenSuite(open: () => Promise<Instances>): void {
  let opened: Instances;
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
    const raw = await rawTokens(opened);
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
    expect(await rawTokens(opened)).not.toContain(SECRET);
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
  sharedTokenSuite(async () => sqliteInstances(2, { codec: keyring() }));
});

describePostgres('shared token cache over one PostgreSQL database', (server) => {
  sharedTokenSuite(() => postgresInstances(server(), 2, { codec: keyring() }));
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
