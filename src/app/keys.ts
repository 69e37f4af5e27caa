// Key management, shared by the HTTP layer (authentication hashes the presented key), the service start (API_KEYS_FILE)
// and the CLI (`ilp-adapter keys create|list|revoke|hash`). Keys are stored as sha256 only; the key itself is shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRow, Store } from '../store/types.js';
import { parseApiKeysFile, readJsonFile } from '../config/index.js';
import type { Logger } from '../util/logger.js';

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new random key (printed once by `ilp-adapter keys create`, never stored). */
export const generateApiKey = (): string => `ilp_${randomBytes(24).toString('base64url')}`;

/** Characters of the sha256 shown to an operator (48 bits: unique among any realistic number of keys). */
export const SHOWN_PREFIX = 12;
/** Shortest hash prefix a revocation accepts, so a typo does not match by accident. */
export const MIN_PREFIX = 8;

/** A new facility key stored (its hash) for `organizationId`; returns the key, which exists nowhere else. */
export async function createFacilityKey(store: Store, o: { organizationId: string; label?: string; at: number }): Promise<string> {
  const key = generateApiKey();
  await store.putApiKey({
    keyHash: hashApiKey(key), organizationId: o.organizationId, role: 'facility', source: 'cli', createdAt: o.at,
    ...(o.label ? { label: o.label } : {}),
  });
  return key;
}

export type RevokeResult =
  | { status: 'revoked'; row: ApiKeyRow }
  | { status: 'none' }
  | { status: 'already'; row: ApiKeyRow }
  | { status: 'ambiguous'; rows: ApiKeyRow[] };

/** Revokes the one active key whose hash starts with `query` (at least MIN_PREFIX hex digits) or whose label is `query`. */
export async function revokeKey(store: Store, query: string, at: number): Promise<RevokeResult> {
  const rows = await store.listApiKeys();
  const q = query.trim();
  const byPrefix = /^[0-9a-fA-F]+$/.test(q) && q.length >= MIN_PREFIX ? rows.filter((r) => r.keyHash.startsWith(q.toLowerCase())) : [];
  const matched = byPrefix.length ? byPrefix : rows.filter((r) => r.label === q);
  if (!matched.length) return { status: 'none' };
  const active = matched.filter((r) => r.revokedAt === undefined);
  if (!active.length) return { status: 'already', row: matched[0]! };
  if (active.length > 1) return { status: 'ambiguous', rows: active };
  await store.revokeApiKey(active[0]!.keyHash, at);
  return { status: 'revoked', row: active[0]! };
}

/**
 * API_KEYS_FILE is an import: its keys are stored with source `file`, and a key imported earlier that the file no longer
 * lists is revoked. Without the file the keys imported earlier are left as they are (an unset variable is more likely a
 * deployment slip than a wish to lock every facility out), and that is said.
 */
export async function importKeysFile(store: Store, file: string | undefined, at: number, logger: Logger): Promise<void> {
  if (!file) {
    const active = (await store.listApiKeys()).filter((k) => k.source === 'file' && k.revokedAt === undefined).length;
    if (active) logger.warn({ keys: active }, 'API_KEYS_FILE is not set: keys imported from it earlier keep working until revoked (ilp-adapter keys revoke)');
    return;
  }
  const result = await store.importApiKeys(parseApiKeysFile(readJsonFile(file, 'API_KEYS_FILE'), file), at);
  logger.info({ file, ...result }, 'imported API_KEYS_FILE');
  if (result.stillRevoked) logger.warn({ keys: result.stillRevoked }, 'API_KEYS_FILE lists revoked keys: they stay revoked (make a new key)');
}
