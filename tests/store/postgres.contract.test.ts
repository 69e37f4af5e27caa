// The Store contract (the suite SQLite runs) against a real PostgreSQL server, a fresh database per test, with the
// store's clock following the `now` arguments so the same timed expectations hold as on SQLite.
import { openPostgresStore } from '../../src/store/postgres.js';
import { describeStoreContract } from './contract/index.js';
import { describePostgres } from './helpers/postgres.js';

describePostgres('PostgreSQL store', (server) => {
  describeStoreContract('PostgreSQL', async (opts = {}) => {
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
