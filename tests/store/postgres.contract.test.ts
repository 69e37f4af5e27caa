// The async Store contract against a real PostgreSQL server (a fresh database per test), with the store's clock
// following the `now` arguments so the same timed expectations hold as on SQLite.
import { openPostgresStore } from '../../src/store/postgres.js';
import { describeAsyncStoreContract } from './async-contract/index.js';
import { describePostgres } from './helpers/postgres.js';

describePostgres('PostgreSQL store', (server) => {
  describeAsyncStoreContract('PostgreSQL', async (opts = {}) => {
    const url = await server().newDatabase();
    const store = await openPostgresStore({ url, clock: (callerNow) => callerNow, poolMax: 2, ...opts });
    return {
      store,
      async cleanup() {
        await store.close();
        await server().dropDatabase(url);
      },
    };
  });
});
