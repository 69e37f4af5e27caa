// A cheap, iterative guard over parsed JSON, run before any recursive code (validators, mappers) sees it:
// 10,000 levels of nesting would blow the stack of a recursive walker, and a million-element array would make a
// validator with allErrors produce a million issues. Shared by the HTTP API and the CLI.
import type { MessageRef } from '../validation/outcome.js';
import { renderMessage } from '../i18n/issues.js';

export interface JsonLimits {
  /** Deepest allowed nesting of objects/arrays (the root object is depth 1). */
  maxDepth: number;
  /** Longest allowed array. */
  maxArrayLength: number;
  /** Most values (objects, arrays, primitives) in one document. */
  maxNodes: number;
  /** Most members of one object (checked while the body streams in, and here). */
  maxObjectKeys: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxArrayLength: 10_000, maxNodes: 1_000_000, maxObjectKeys: 1_000 };

export interface JsonLimitViolation {
  kind: 'depth' | 'array-length' | 'object-keys' | 'nodes';
  /** Human-readable, content-free (no values from the document); English, the same as `ref` rendered in en. */
  message: string;
  /** The message as state (messages/json-limits.json), for a reader in another language. */
  ref?: MessageRef;
  /** JSON path of the offending element, e.g. `entry[3].resource.component`; absent for `nodes`. */
  path?: string;
}

/**
 * A violation of `kind` said by message json-limits.`key` (default: the kind), built only when a limit is broken: the
 * valid case renders nothing. Shared with the streaming guard (src/util/json-stream-guard.ts).
 */
export function violation<K extends string = JsonLimitViolation['kind']>(kind: K, params: Record<string, number>, path?: string, key: string = kind):
  Omit<JsonLimitViolation, 'kind'> & { kind: K } {
  const ref = { key: `json-limits.${key}`, params };
  return { kind, message: renderMessage('en', ref.key, params), ref, ...(path !== undefined ? { path } : {}) };
}

// Paths are built only on a violation, from parent links, so the common (valid) case allocates no strings.
type Frame = { value: unknown; depth: number; parent: Frame | undefined; key: string | number };

// Keys are echoed only when they look like field names: a NIK, phone number or name used as a key stays out of responses.
const SAFE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;
export const keyText = (k: string): string => (SAFE_KEY.test(k) && !/\d{4}/.test(k) ? k : '(key)');

function pathOf(frame: Frame): string {
  const parts: string[] = [];
  for (let f: Frame | undefined = frame; f && f.parent; f = f.parent) {
    const k = typeof f.key === 'number' ? f.key : keyText(f.key);
    parts.push(typeof k === 'number' ? `[${k}]` : f.parent.parent ? `.${k}` : k);
  }
  const p = parts.reverse().join('');
  return p || '(root)';
}

/** Returns the first limit the document breaks, or undefined. Iterative (explicit stack), O(nodes). */
export function checkJsonLimits(doc: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonLimitViolation | undefined {
  const stack: Frame[] = [{ value: doc, depth: 1, parent: undefined, key: '' }];
  let nodes = 0;
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { value, depth } = frame;
    nodes++;
    if (nodes > limits.maxNodes) {
      return violation('nodes', { limit: limits.maxNodes });
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > limits.maxDepth) {
      return violation('depth', { limit: limits.maxDepth }, pathOf(frame));
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayLength) {
        return violation('array-length', { count: value.length, limit: limits.maxArrayLength }, pathOf(frame));
      }
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, parent: frame, key: i });
    } else {
      let members = 0;
      for (const k in value as Record<string, unknown>) {
        if (++members > limits.maxObjectKeys) {
          return violation('object-keys', { limit: limits.maxObjectKeys }, pathOf(frame));
        }
        if (Object.prototype.hasOwnProperty.call(value, k)) {
          stack.push({ value: (value as Record<string, unknown>)[k], depth: depth + 1, parent: frame, key: k });
        }
      }
    }
  }
  return undefined;
}
