// API_KEYS_FILE: facility API keys provisioned declaratively, as sha256 hashes only (a leaked file leaks no key).
// {"keys": [{"organizationId": "10000004", "sha256": "<64 hex>", "label": "SIMPUS Puskesmas X"}]}
import type { ApiKeyRow } from '../store/types.js';
import { ConfigError } from './errors.js';

const HEX64 = /^[0-9a-f]{64}$/;

export function parseApiKeysFile(doc: unknown, source = 'API keys file'): ApiKeyRow[] {
  const list = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { keys?: unknown }).keys : doc;
  if (!Array.isArray(list)) throw new ConfigError([`${source}: expected {"keys": [{"organizationId", "sha256", "label"?}]}`]);
  const problems: string[] = [];
  const rows: ApiKeyRow[] = [];
  list.forEach((k, i) => {
    const at = `${source}: keys[${i}]`;
    if (typeof k !== 'object' || k === null) return void problems.push(`${at}: expected an object`);
    const r = k as Record<string, unknown>;
    if ('key' in r) problems.push(`${at}.key: store only the sha256 of a key (ilp-adapter keys hash), never the key itself`);
    if (typeof r.organizationId !== 'string' || !r.organizationId) problems.push(`${at}.organizationId: required`);
    const hash = typeof r.sha256 === 'string' ? r.sha256.toLowerCase() : '';
    if (!HEX64.test(hash)) problems.push(`${at}.sha256: required, 64 hex digits (sha256 of the key)`);
    if (r.label !== undefined && typeof r.label !== 'string') problems.push(`${at}.label: must be a string`);
    rows.push({ keyHash: hash, organizationId: String(r.organizationId), role: 'facility', ...(typeof r.label === 'string' ? { label: r.label } : {}) });
  });
  if (problems.length) throw new ConfigError(problems);
  return rows;
}
