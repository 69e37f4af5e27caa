// The HMAC key that turns NIK-based identity keys into cache keys. NIKs are low-entropy, so a plain hash could be
// reversed by enumeration; a keyed hash cannot without the key. Generated once and kept under DATA_DIR when not given.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, configProblem as cp } from './errors.js';
import { decodeKey } from './service.js';

export const HMAC_KEY_FILE = 'hmac.key';

export interface HmacKeySource {
  key: Buffer;
  /** 'env' (ILP_HMAC_KEY), 'file' (read from dataDir), 'generated' (written to dataDir now). */
  origin: 'env' | 'file' | 'generated';
  file?: string;
}

export function loadHmacKey(fromEnv: string | undefined, dataDir: string): HmacKeySource {
  if (fromEnv) {
    const key = decodeKey(fromEnv);
    if (!key) throw new ConfigError([cp('env.hmac-key')]);
    return { key, origin: 'env' };
  }
  const file = path.join(dataDir, HMAC_KEY_FILE);
  if (fs.existsSync(file)) {
    const key = decodeKey(fs.readFileSync(file, 'utf8'));
    if (!key) throw new ConfigError([cp('hmac.file-invalid', { file })]);
    return { key, origin: 'file', file };
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // the database beside the key holds NIKs
  const key = randomBytes(32);
  // 'wx': never overwrite a key another process wrote meanwhile.
  try {
    fs.writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadHmacKey(undefined, dataDir);
    throw new ConfigError([cp('hmac.file-unwritable', { file, code: (e as NodeJS.ErrnoException).code ?? 'error' })]);
  }
  return { key, origin: 'generated', file };
}
