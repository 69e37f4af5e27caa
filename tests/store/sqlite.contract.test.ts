// The Store contract run against the SQLite store, in memory (its file behaviour is in sqlite.test.ts).
import { openSqliteStore } from '../../src/store/sqlite.js';
import { describeStoreContract } from './contract/index.js';

describeStoreContract('SQLite', async (opts = {}) => {
  const store = openSqliteStore({ file: ':memory:', ...opts });
  return { store, cleanup: () => store.close() };
});
