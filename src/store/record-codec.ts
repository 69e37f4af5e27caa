// Record bodies at rest: AES-256-GCM (node:crypto) under a keyring of data keys. The newest key seals, every key of the
// ring opens, so a new key can be added first and the old bodies re-encrypted later (`ilp-adapter keys rotate-data`).
// Stored form: `enc:v1:<keyId>:<iv base64>:<ciphertext+tag base64>`. The associated data is the header and the row's
// (organization, visit) key, so a body copied into another row, or under another key id, fails authentication.
// A body that does not start with `enc:` is a plain JSON body written before encryption; it still opens.
import { AppError, type MessageRef } from '../util/app-error.js';
import fs from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** What a store needs of a codec (the SQLite and PostgreSQL stores take exactly this). */
export interface RecordCodec {
  seal(plain: string, aad: string): string;
  open(stored: string, aad: string): string;
}

/** The associated data binding a body to its row. */
export const recordAad = (organizationId: string, visitId: string): string => `${organizationId}\u0000${visitId}`;

export const DATA_KEY_FILE = 'data-keys';
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export type RecordSealFault = 'key-missing' | 'tampered' | 'format';

/** Which words say why a body cannot be opened (messages/store-open.json `record.<reason>`); finer than the fault. */
export type RecordSealReason = 'unknown-format' | 'key-missing' | 'truncated' | 'tampered' | 'no-keys';

/**
 * A body that cannot be opened; names the key id (never the key or the content). `message` is English for logs; `ref`
 * says the same from the catalogue (store-open.record.<reason>, parameter keyId), for the operator's language.
 */
export class RecordSealError extends AppError {
  constructor(message: string, readonly fault: RecordSealFault, readonly keyId: string | undefined, reason: RecordSealReason) {
    super('record-seal', message, { ref: { key: `store-open.record.${reason}`, params: { keyId: keyId ?? '?' } } });
  }
}

/** A data-key configuration that cannot be used (bad DATA_KEYS, unreadable or loose key file). */
export class DataKeyConfigError extends AppError {
  /** `ref`: the same as a messages/store-open.json key where an operator meets it at start-up (English `message` for logs). */
  constructor(message: string, ref?: MessageRef) {
    super('data-key-config', message, ref ? { ref } : {});
  }
}

/** True when `stored` is sealed (as opposed to a plain body written before encryption). */
export const isSealed = (stored: string): boolean => stored.startsWith('enc:');

/** The key id a sealed body names; undefined for a plain body. */
export function sealedKeyId(stored: string): string | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  const end = stored.indexOf(':', PREFIX.length);
  return end > PREFIX.length ? stored.slice(PREFIX.length, end) : undefined;
}

type KeyEntries = ReadonlyArray<readonly [string, Buffer]>;

type KeysRef = NonNullable<DataKeyConfigError['ref']>;
/** A keyring problem as messages/store-open.json key data-keys.<key>, and the same said after where the keys came from. */
const keysProblem = (key: string, params: KeysRef['params'] = {}): KeysRef => ({ key: `store-open.data-keys.${key}`, params });
const atOrigin = (origin: string, problem: KeysRef): KeysRef =>
  ({ key: 'store-open.data-keys.at', params: { ...problem.params, origin, '@problem': problem.key } });

function keyMap(entries: KeyEntries): Map<string, Buffer> {
  if (!entries.length) throw new DataKeyConfigError('the data keyring is empty');
  const keys = new Map<string, Buffer>();
  for (const [id, key] of entries) {
    if (!KEY_ID.test(id)) throw new DataKeyConfigError(`data key id "${id.slice(0, 40)}": use 1–32 letters, digits, - or _`, keysProblem('key-id', { id: id.slice(0, 40) }));
    if (key.length !== 32) throw new DataKeyConfigError(`data key ${id}: must be 32 bytes (got ${key.length})`);
    if (keys.has(id)) throw new DataKeyConfigError(`data key ${id} is listed twice`, keysProblem('twice', { id }));
    keys.set(id, key);
  }
  return keys;
}

/** A key file is read again at most this often when a body names a key the ring does not have. */
const RELOAD_INTERVAL_MS = 5_000;

export class RecordKeyring implements RecordCodec {
  private keys: ReadonlyMap<string, Buffer>;
  /** The key that seals; the first of the ring. */
  private current: string;
  private lastReload = 0;

  /**
   * `entries`: newest first. `reload` (a key file): read the ring again when a body names a key it does not have, so
   * `keys rotate-data` run with a new key file before this process restarts does not strand the bodies it re-sealed.
   */
  constructor(entries: KeyEntries, private readonly reload?: () => KeyEntries) {
    this.keys = keyMap(entries);
    this.current = entries[0]![0];
  }

  get currentKeyId(): string {
    return this.current;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plain: string, aad: string): string {
    const header = `${PREFIX}${this.currentKeyId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(`${header}\u0000${aad}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${header}:${iv.toString('base64')}:${body.toString('base64')}`;
  }

  /** Reads the key file again (rate-limited); false when there is no file, it is too soon, or the file is unusable now. */
  private reloaded(): boolean {
    if (!this.reload || Date.now() - this.lastReload < RELOAD_INTERVAL_MS) return false;
    this.lastReload = Date.now();
    try {
      const entries = this.reload();
      this.keys = keyMap(entries);
      this.current = entries[0]![0];
      return true;
    } catch {
      return false; // the ring in use stays; the body's error names the key
    }
  }

  open(stored: string, aad: string): string {
    if (!isSealed(stored)) return stored;
    const parts = stored.startsWith(PREFIX) ? stored.slice(PREFIX.length).split(':') : [];
    if (parts.length !== 3) throw new RecordSealError('record body: unknown sealed format (written by a newer ilp-adapter?)', 'format', undefined, 'unknown-format');
    const [keyId, ivText, bodyText] = parts as [string, string, string];
    const key = this.keys.get(keyId) ?? (this.reloaded() ? this.keys.get(keyId) : undefined);
    if (!key) {
      throw new RecordSealError(`record body is sealed under data key "${keyId}", which is not in DATA_KEYS / the data key file`, 'key-missing', keyId, 'key-missing');
    }
    const iv = Buffer.from(ivText, 'base64');
    const body = Buffer.from(bodyText, 'base64');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new RecordSealError(`record body under data key "${keyId}" is truncated`, 'format', keyId, 'truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(`${PREFIX}${keyId}\u0000${aad}`, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new RecordSealError(
        `record body under data key "${keyId}" failed authentication (altered, moved from another row, or key "${keyId}" is not the key it was sealed with)`,
        'tampered', keyId, 'tampered',
      );
    }
  }
}

/** No encryption (tests, in-memory stores): plain bodies pass through; a sealed one cannot be opened. */
export const plainRecordCodec: RecordCodec = {
  seal: (plain) => plain,
  open: (stored) => {
    if (!isSealed(stored)) return stored;
    const keyId = sealedKeyId(stored);
    throw new RecordSealError(`record body is sealed under data key "${keyId ?? '?'}" but no data keys are configured`, 'key-missing', keyId, 'no-keys');
  },
};

/** The key id that seals, when the codec is a keyring (undefined: bodies are stored plain). */
export const currentKeyIdOf = (codec: RecordCodec): string | undefined => (codec instanceof RecordKeyring ? codec.currentKeyId : undefined);

/**
 * `id1:base64,id2:base64` (commas or new lines; # comments in a file), newest first. Key material is never echoed in an
 * error message.
 */
export function parseDataKeys(text: string, origin: string, reload?: () => KeyEntries): RecordKeyring {
  return new RecordKeyring(parseKeyEntries(text, origin), reload);
}

function parseKeyEntries(text: string, origin: string): KeyEntries {
  const entries: Array<[string, Buffer]> = [];
  const items = text.split('\n').flatMap((line) => line.replace(/#.*$/, '').split(',')).map((l) => l.trim()).filter(Boolean);
  items.forEach((item, i) => {
    const colon = item.indexOf(':');
    if (colon < 1) throw new DataKeyConfigError(`${origin}: entry ${i + 1} is not <keyId>:<base64 of 32 bytes>`, atOrigin(origin, keysProblem('entry-format', { n: i + 1 })));
    const id = item.slice(0, colon).trim();
    const material = item.slice(colon + 1).trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(material) ? Buffer.from(material, 'base64') : undefined;
    if (!key || key.length !== 32) {
      throw new DataKeyConfigError(`${origin}: data key ${KEY_ID.test(id) ? id : `entry ${i + 1}`} must be 32 bytes in base64 (e.g. \`openssl rand -base64 32\`)`,
        atOrigin(origin, KEY_ID.test(id) ? keysProblem('key-length', { id }) : keysProblem('key-length.entry', { n: i + 1 })));
    }
    entries.push([id, key]);
  });
  if (!entries.length) throw new DataKeyConfigError(`${origin}: no data key`, atOrigin(origin, keysProblem('none')));
  try {
    keyMap(entries);
  } catch (e) {
    const inner = e instanceof DataKeyConfigError ? e.ref : undefined;
    throw new DataKeyConfigError(`${origin}: ${(e as Error).message}`, inner && atOrigin(origin, inner));
  }
  return entries;
}

export interface DataKeySource {
  keyring: RecordKeyring;
  /** 'env' (DATA_KEYS), 'file' (DATA_KEY_FILE or <dataDir>/data-keys), 'generated' (written to <dataDir>/data-keys now). */
  origin: 'env' | 'file' | 'generated';
  file?: string;
}

/** A key file is refused when group or others may read or write it: the keys open every record of the database. */
function readKeyFile(file: string): RecordKeyring {
  return new RecordKeyring(readKeyEntries(file), () => readKeyEntries(file));
}

function readKeyEntries(file: string): KeyEntries {
  let mode: number;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch (e) {
    throw new DataKeyConfigError(`${file}: cannot read the data key file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      { key: 'store-open.key-file.unreadable', params: { file, code: (e as NodeJS.ErrnoException).code ?? 'error' } });
  }
  if (mode & 0o077) {
    throw new DataKeyConfigError(`${file}: the data key file is readable by other local users (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`,
      { key: 'store-open.key-file.loose-mode', params: { file, mode: mode.toString(8).padStart(4, '0') } });
  }
  return parseKeyEntries(fs.readFileSync(file, 'utf8'), file);
}

/**
 * The data keyring: DATA_KEYS, else DATA_KEY_FILE, else `<dataDir>/data-keys`, generated there (mode 0600, one fresh
 * key) when missing, so a first start needs no setup.
 */
export function loadDataKeys(env: NodeJS.ProcessEnv, dataDir: string): DataKeySource {
  const fromEnv = env.DATA_KEYS?.trim();
  if (fromEnv) return { keyring: parseDataKeys(fromEnv, 'DATA_KEYS'), origin: 'env' };
  const named = env.DATA_KEY_FILE?.trim();
  if (named) {
    const file = path.resolve(named);
    return { keyring: readKeyFile(file), origin: 'file', file };
  }
  const file = path.join(dataDir, DATA_KEY_FILE);
  if (fs.existsSync(file)) return { keyring: readKeyFile(file), origin: 'file', file };
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // Date for the operator, a fingerprint so two generated keys never share an id (one key file mistaken for another).
  const id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${createHmac('sha256', key).update('ilp-adapter data key id').digest('hex').slice(0, 8)}`;
  try {
    // 'wx': never overwrite a key file another process wrote meanwhile.
    fs.writeFileSync(file, `# ilp-adapter data keys, newest first (<keyId>:<base64 of 32 bytes>); see README "Health data at rest"\n${id}:${key.toString('base64')}\n`,
      { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { keyring: readKeyFile(file), origin: 'file', file };
    throw new DataKeyConfigError(`${file}: cannot write the generated data key (${(e as NodeJS.ErrnoException).code ?? 'error'}); set DATA_KEYS or make DATA_DIR writable`,
      { key: 'store-open.key-file.unwritable', params: { file, code: (e as NodeJS.ErrnoException).code ?? 'error' } });
  }
  return { keyring: readKeyFile(file), origin: 'generated', file };
}
