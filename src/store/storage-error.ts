// One error type for "the storage itself failed" (disk full, I/O error, locked, corrupted, read-only), raised by the
// store in place of the driver's error, so the HTTP layer and readiness decide on fields, never on message text.
// Constraint violations and programming errors pass through unchanged: they are not storage faults.

import { AppError } from '../util/app-error.js';

export type StorageFault = 'full' | 'io' | 'busy' | 'corrupt' | 'readonly';

/** Driver / errno code prefix → what went wrong and whether trying again later can succeed. */
const FAULTS: ReadonlyArray<{ prefix: string; fault: StorageFault; retryable: boolean }> = [
  { prefix: 'SQLITE_FULL', fault: 'full', retryable: true },
  { prefix: 'ENOSPC', fault: 'full', retryable: true },
  { prefix: 'EDQUOT', fault: 'full', retryable: true },
  { prefix: 'SQLITE_IOERR', fault: 'io', retryable: true },
  { prefix: 'EIO', fault: 'io', retryable: true },
  { prefix: 'SQLITE_BUSY', fault: 'busy', retryable: true },
  { prefix: 'SQLITE_LOCKED', fault: 'busy', retryable: true },
  { prefix: 'SQLITE_CORRUPT', fault: 'corrupt', retryable: false },
  { prefix: 'SQLITE_NOTADB', fault: 'corrupt', retryable: false },
  { prefix: 'SQLITE_READONLY', fault: 'readonly', retryable: false },
  { prefix: 'EROFS', fault: 'readonly', retryable: false },
  { prefix: 'SQLITE_CANTOPEN', fault: 'io', retryable: true },
];

const DESCRIPTIONS: Record<StorageFault, string> = {
  full: 'the disk holding the database is full',
  io: 'the database file could not be read or written (I/O error)',
  busy: 'the database is locked by another process',
  corrupt: 'the database file is damaged (run `ilp-adapter store check`)',
  readonly: 'the database file or its folder is read-only',
};

export class StorageError extends AppError {
  /** The driver's or the OS's code, e.g. `SQLITE_FULL`, `SQLITE_IOERR_WRITE`, `ENOSPC`. */
  readonly code: string;
  readonly fault: StorageFault;
  /** True when the same request may succeed later without an operator (space freed, lock released). */
  readonly retryable: boolean;

  /** The same text as a messages/storage.json key (the store stays free of the catalogue code), said in the operator's language at the edge. */
  readonly ref: { key: string; params: Record<string, string> };

  constructor(code: string, fault: StorageFault, retryable: boolean) {
    super('storage', `storage failure: ${DESCRIPTIONS[fault]} (${code})`);
    this.code = code;
    this.fault = fault;
    this.retryable = retryable;
    this.ref = { key: 'storage.failure', params: { code, '@why': `storage.fault.${fault}` } };
  }
}

/** The StorageError for a driver/OS error, or undefined when `err` is not a storage fault. */
export function toStorageError(err: unknown): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return undefined;
  const hit = FAULTS.find((f) => code === f.prefix || code.startsWith(`${f.prefix}_`));
  return hit && new StorageError(code, hit.fault, hit.retryable);
}

/**
 * `target` with every method turning storage faults into StorageError (thrown, or the rejection of a returned Promise).
 * A Proxy rather than a try/catch per method: a method added to the store later is covered without anyone remembering to.
 */
export function withStorageErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      const translate = (e: unknown) => toStorageError(e) ?? e;
      return (...args: unknown[]) => {
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
          // Async methods fail by rejecting: the same translation on that path.
          return result instanceof Promise ? result.catch((e: unknown) => Promise.reject(translate(e))) : result;
        } catch (e) {
          throw translate(e);
        }
      };
    },
  });
}
