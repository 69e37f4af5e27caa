// In-memory FHIR store with one hash index per (type, search parameter, key): every search is a set lookup, never a scan.
import { ownEntry } from '../util/own.js';
import { typeSpec, normaliseReference, type Json, type SearchParamSpec } from './resource-types.js';
import { SimHttpError, plainIssue } from './platform-outcome.js';

export interface StoredRow {
  resource: Json;
  /** organizationId of the creating client (owned types only). */
  owner?: string;
  version: number;
  /** Index keys this row is filed under, so an update can unfile them. */
  keys: string[];
}

export interface Criterion {
  param: string;
  /** Comma-separated alternatives of one parameter (OR). */
  values: string[];
}

const SEP = '\u0001';

export class FhirStore {
  private readonly rows = new Map<string, Map<string, StoredRow>>();
  private readonly index = new Map<string, Set<string>>();
  private readonly counts = new Map<string, number>();

  get(type: string, id: string): StoredRow | undefined {
    return this.rows.get(type)?.get(id);
  }

  has(type: string, id: string): boolean {
    return this.rows.get(type)?.has(id) ?? false;
  }

  /** Inserts or replaces `resource` (which carries its id); re-files its index keys. */
  put(type: string, resource: Json, owner: string | undefined, version: number): StoredRow {
    const id = String(resource.id);
    let byId = this.rows.get(type);
    if (!byId) this.rows.set(type, (byId = new Map()));
    const old = byId.get(id);
    if (old) this.unfile(id, old.keys);
    else {
      this.bump(type, 1);
      if (owner) this.bump(`${type}${SEP}${owner}`, 1);
    }
    const keys = this.keysOf(type, resource);
    for (const k of keys) {
      let set = this.index.get(k);
      if (!set) this.index.set(k, (set = new Set()));
      set.add(id);
    }
    const row: StoredRow = { resource, owner: old?.owner ?? owner, version, keys };
    byId.set(id, row);
    return row;
  }

  count(type: string, owner?: string): number {
    return this.counts.get(owner ? `${type}${SEP}${owner}` : type) ?? 0;
  }

  /**
   * Ids matching every criterion (AND across parameters, OR within one); every id of the type when there is none (as
   * the platform answers a search whose parameters it dropped). Throws 400 for a parameter the simulator cannot index.
   */
  search(type: string, criteria: Criterion[]): string[] {
    const spec = typeSpec(type);
    if (!spec) throw new SimHttpError(404, [plainIssue('not-supported', `Resource type ${type} is not supported by the simulator`)]);
    if (criteria.length === 0) return [...(this.rows.get(type)?.keys() ?? [])];
    const sets: Set<string>[] = [];
    for (const c of criteria) {
      const p = ownEntry(spec.params, c.param);
      if (!p) throw new SimHttpError(400, [plainIssue('not-supported', `Search parameter ${c.param} is not supported for ${type}`)]);
      const union = new Set<string>();
      for (const v of c.values) {
        const key = queryKey(p, v, c.param);
        for (const id of this.index.get(`${type}${SEP}${c.param}${SEP}${key}`) ?? []) union.add(id);
      }
      sets.push(union);
    }
    sets.sort((a, b) => a.size - b.size);
    const [first, ...rest] = sets;
    const out: string[] = [];
    for (const id of first) if (rest.every((s) => s.has(id))) out.push(id);
    return out;
  }

  /** Ids whose `param` index contains `key` (key already normalised): used for duplicate checks. */
  lookup(type: string, param: string, key: string): ReadonlySet<string> {
    return this.index.get(`${type}${SEP}${param}${SEP}${key}`) ?? new Set();
  }

  all(type: string): StoredRow[] {
    return [...(this.rows.get(type)?.values() ?? [])];
  }

  private keysOf(type: string, resource: Json): string[] {
    const spec = typeSpec(type);
    if (!spec) return [];
    const keys = new Set<string>();
    for (const [param, p] of Object.entries(spec.params)) {
      for (const k of p.extract(resource)) keys.add(`${type}${SEP}${param}${SEP}${k}`);
    }
    return [...keys];
  }

  private unfile(id: string, keys: string[]): void {
    for (const k of keys) {
      const set = this.index.get(k);
      if (!set) continue;
      set.delete(id);
      if (set.size === 0) this.index.delete(k);
    }
  }

  private bump(key: string, n: number): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
}

/** A query value → the index key it must match (same normalisation as the extractors). */
function queryKey(p: SearchParamSpec, raw: string, param: string): string {
  switch (p.kind) {
    case 'token': {
      const bar = raw.indexOf('|');
      if (bar < 0) return `*|${raw}`;
      const sys = raw.slice(0, bar);
      const val = raw.slice(bar + 1);
      if (sys && val) return `${sys}|${val}`;
      if (sys) return `${sys}|*`;
      return `*|${val}`;
    }
    case 'reference':
      return normaliseReference(raw, p.target) ?? raw;
    case 'string':
      return raw.trim().toLowerCase();
    case 'date': {
      const v = raw.startsWith('eq') ? raw.slice(2) : raw;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) {
        throw new SimHttpError(400, [plainIssue('not-supported', `Search parameter ${param}: only an exact day (YYYY-MM-DD) is supported`)]);
      }
      return v;
    }
  }
}
