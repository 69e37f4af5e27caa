// API_KEYS_FILE: facility API keys provisioned declaratively, as sha256 hashes only (a leaked file leaks no key).
// {"keys": [{"organizationId": "10000004", "sha256": "<64 hex>", "label": "SIMPUS Puskesmas X"}]}
import type { ApiKeyRow } from '../store/types.js';
import { ConfigError, configProblem as cp, type ConfigProblem } from './errors.js';

const HEX64 = /^[0-9a-f]{64}$/;

export function parseApiKeysFile(doc: unknown, source = 'API keys file'): ApiKeyRow[] {
  const list = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { keys?: unknown }).keys : doc;
  if (!Array.isArray(list)) throw new ConfigError([cp('api-keys.shape', { source })]);
  const problems: ConfigProblem[] = [];
  const rows: ApiKeyRow[] = [];
  list.forEach((k, i) => {
    const at = `${source}: keys[${i}]`;
    if (typeof k !== 'object' || k === null) return void problems.push(cp('entry.object', { at }));
    const r = k as Record<string, unknown>;
    if ('key' in r) problems.push(cp('api-keys.plain-key', { at: `${at}.key` }));
    if (typeof r.organizationId !== 'string' || !r.organizationId) problems.push(cp('entry.required', { at: `${at}.organizationId` }));
    const hash = typeof r.sha256 === 'string' ? r.sha256.toLowerCase() : '';
    if (!HEX64.test(hash)) problems.push(cp('api-keys.sha256', { at: `${at}.sha256` }));
    if (r.label !== undefined && typeof r.label !== 'string') problems.push(cp('entry.string', { at: `${at}.label` }));
    rows.push({ keyHash: hash, organizationId: String(r.organizationId), role: 'facility', ...(typeof r.label === 'string' ? { label: r.label } : {}) });
  });
  if (problems.length) throw new ConfigError(problems);
  return rows;
}
