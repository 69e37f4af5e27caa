import { StorageError, toStorageError, withStorageErrors } from '../../src/store/storage-error.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const driverError = (code: string) => Object.assign(new Error(`driver says ${code}`), { code });

describe('StorageError', () => {
  it.each([
    ['SQLITE_FULL', 'full', true],
    ['SQLITE_IOERR_WRITE', 'io', true],
    ['SQLITE_IOERR', 'io', true],
    ['ENOSPC', 'full', true],
    ['SQLITE_BUSY', 'busy', true],
    ['SQLITE_BUSY_SNAPSHOT', 'busy', true],
    ['SQLITE_CORRUPT', 'corrupt', false],
    ['SQLITE_READONLY_DBMOVED', 'readonly', false],
  ])('%s is a storage fault (%s, retryable %s), in fields', (code, fault, retryable) => {
    const e = toStorageError(driverError(code));
    expect(e).toBeInstanceOf(StorageError);
    expect(e).toMatchObject({ code, fault, retryable });
    expect(e!.message).not.toContain('driver says');
  });

  it.each(['SQLITE_CONSTRAINT_CHECK', 'SQLITE_ERROR', 'SQLITE_FULLY_MADE_UP', 'ERR_X'])('%s is not a storage fault', (code) => {
    expect(toStorageError(driverError(code))).toBeUndefined();
  });

  it('the store raises StorageError for a storage fault and passes other errors through', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    try {
      // The Proxy forwards property writes to the store: make its ingest statement fail like a full disk would.
      const inner = store as unknown as { s: { insertVisit: { run: () => never } } };
      inner.s.insertVisit = { run: () => { throw driverError('SQLITE_FULL'); } };
      const item = { organizationId: 'o', visitId: 'v', record: {}, contentHash: 'h' };
      await expect(store.ingest([item], 1)).rejects.toThrow(StorageError);
      await expect(store.ingest([item], 1)).rejects.toThrow(/disk holding the database is full \(SQLITE_FULL\)/);
      await expect(store.ingest('nope' as never, 1)).rejects.toThrow(TypeError);
      expect((await store.counts()).byState.queued).toBe(0); // the failed transaction left nothing
    } finally {
      await store.close();
    }
  });

  it('withStorageErrors keeps return values and non-function properties', () => {
    const o = withStorageErrors({ n: 3, twice(x: number) { return this.n * x; } });
    expect(o.n).toBe(3);
    expect(o.twice(2)).toBe(6);
  });
});
