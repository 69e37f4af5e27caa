// A byte-level check of JSON structure while the body is still arriving, so that a hostile document (millions of
// nesting levels, hundreds of thousands of keys) is refused after the first bytes that break a limit, before
// JSON.parse builds any tree. It is not a parser: it tracks only strings, brackets, commas and colons, and leaves
// the rest of JSON's grammar to JSON.parse, which runs on bodies that passed.
import { keyText, violation, type JsonLimits, type JsonLimitViolation } from './json-limits.js';

export interface StreamViolation extends Omit<JsonLimitViolation, 'kind'> {
  kind: JsonLimitViolation['kind'] | 'syntax';
}

const OBJ = 1;
const ARR = 2;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Longest key remembered for an error path; longer keys show as '(key)'. */
const MAX_PATH_KEY = 64;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Feed it the body chunk by chunk; `write` answers the first violation (and keeps answering it). */
export class JsonStreamGuard {
  /** Bytes looked at so far (stops growing at the first violation). */
  bytesSeen = 0;
  private depth = 0;
  private readonly kinds: Uint8Array;
  /** Array elements, or object members, seen so far at each depth. */
  private readonly counts: Uint32Array;
  /**
   * The last key read at each depth, for error paths: its raw bytes (up to MAX_PATH_KEY + 1) in slot `depth` of keyStore, its
   * length in keyLength (-1: none yet). Made text only when a path is reported: a string per key of every body was most of the
   * guard's cost.
   */
  private keyStore = new Uint8Array(8 * (MAX_PATH_KEY + 1));
  private readonly keyLength: Int32Array;
  private nodes = 0;
  private inString = false;
  private escaped = false;
  private expectValue = true;
  private stringIsKey = false;
  /** Bytes of the key being read (kept up to MAX_PATH_KEY + 1). */
  private keyBytes = 0;
  private violation: StreamViolation | undefined;
  private started = false;

  constructor(private readonly limits: JsonLimits & { maxObjectKeys: number }) {
    this.kinds = new Uint8Array(limits.maxDepth + 2);
    this.counts = new Uint32Array(limits.maxDepth + 2);
    this.keyLength = new Int32Array(limits.maxDepth + 2).fill(-1);
  }

  write(chunk: Uint8Array): StreamViolation | undefined {
    if (this.violation) return this.violation;
    const n = chunk.length;
    const { kinds, counts, limits } = this;
    // The state lives in locals while the chunk is read (V8 keeps them in registers; fields would be loaded and stored
    // per byte) and goes back to the fields at the end. A violation needs none of it back: the guard then only repeats it.
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let expectValue = this.expectValue;
    let afterColon = this.afterColon;
    let stringIsKey = this.stringIsKey;
    let keyBytes = this.keyBytes;
    let nodes = this.nodes;
    for (let i = 0; i < n; i++) {
      let b = chunk[i]!;
      if (inString) {
        if (!stringIsKey) {
          // A value's content, most of a body's bytes: only a quote or a backslash matters. An escape may be cut by the
          // chunk boundary (`escaped` carries it to the next chunk).
          let j = i;
          if (escaped) {
            escaped = false;
            j++;
          }
          while (j < n) {
            const c = chunk[j]!;
            if (c === QUOTE) {
              inString = false;
              break;
            }
            if (c === BACKSLASH) {
              if (j + 1 === n) escaped = true;
              j += 2;
            } else j++;
          }
          i = inString ? n : j;
          continue;
        }
        // A key: the same, keeping its first bytes for error paths.
        const slot = depth * (MAX_PATH_KEY + 1);
        const keyStore = this.keyStore;
        for (;;) {
          if (escaped) escaped = false;
          else if (b === BACKSLASH) escaped = true;
          else if (b === QUOTE) {
            inString = false;
            break;
          }
          if (keyBytes <= MAX_PATH_KEY) keyStore[slot + keyBytes++] = b;
          if (++i === n) break;
          b = chunk[i]!;
        }
        if (!inString) this.keyLength[depth] = keyBytes;
        continue;
      }
      if (isSpace(b)) continue;
      if (!this.started) {
        this.started = true;
        // Strict JSON bodies: an object or an array at the root, like express.json({ strict: true }).
        if (b !== 0x7b && b !== 0x5b) return this.fail(i, violation('syntax', {}, undefined, 'syntax.not-object'));
      }
      if (expectValue && b !== 0x5d && b !== 0x7d) {
        expectValue = false;
        if (++nodes > limits.maxNodes) return this.fail(i, violation('nodes', { limit: limits.maxNodes }));
        if (kinds[depth] === ARR && ++counts[depth]! > limits.maxArrayLength) {
          return this.fail(i, violation('array-length', { limit: limits.maxArrayLength }, this.path(depth - 1), 'array-length.more'));
        }
      }
      switch (b) {
        case QUOTE:
          inString = true;
          stringIsKey = kinds[depth] === OBJ && !afterColon;
          if (stringIsKey) {
            keyBytes = 0;
            const need = (depth + 1) * (MAX_PATH_KEY + 1);
            if (this.keyStore.length < need) {
              const grown = new Uint8Array(Math.max(need, this.keyStore.length * 2));
              grown.set(this.keyStore);
              this.keyStore = grown;
            }
          }
          break;
        case 0x7b: // {
        case 0x5b: // [
          if (depth + 1 > limits.maxDepth) {
            return this.fail(i, violation('depth', { limit: limits.maxDepth }, this.path(depth)));
          }
          depth++;
          kinds[depth] = b === 0x7b ? OBJ : ARR;
          counts[depth] = 0;
          afterColon = false;
          expectValue = b === 0x5b;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (depth === 0 || kinds[depth] !== (b === 0x7d ? OBJ : ARR)) {
            return this.fail(i, violation('syntax', {}, undefined, 'syntax.brackets'));
          }
          depth--;
          expectValue = false;
          afterColon = kinds[depth] === OBJ;
          break;
        case 0x3a: // :
          if (kinds[depth] === OBJ && ++counts[depth]! > limits.maxObjectKeys) {
            return this.fail(i, violation('object-keys', { limit: limits.maxObjectKeys }, this.path(depth - 1)));
          }
          afterColon = true;
          expectValue = true;
          break;
        case 0x2c: // ,
          afterColon = false;
          expectValue = kinds[depth] === ARR;
          break;
        default:
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.expectValue = expectValue;
    this.afterColon = afterColon;
    this.stringIsKey = stringIsKey;
    this.keyBytes = keyBytes;
    this.nodes = nodes;
    this.bytesSeen += n;
    return undefined;
  }

  /** In an object, true between a key's colon and the next comma (a string there is a value, not a key). */
  private afterColon = false;

  private fail(at: number, v: StreamViolation): StreamViolation {
    this.bytesSeen += at + 1;
    if (v.path === undefined) delete v.path;
    this.violation = v;
    return v;
  }

  /** The last key read at `depth` as the previous guard kept it: its bytes as latin1, '(key)' when none or longer than MAX_PATH_KEY. */
  private keyText(depth: number): string {
    const length = this.keyLength[depth]!;
    if (length < 0 || length > MAX_PATH_KEY) return '(key)';
    const from = depth * (MAX_PATH_KEY + 1);
    return Buffer.from(this.keyStore.buffer, this.keyStore.byteOffset + from, length).toString('latin1');
  }

  /** JSON path of the container open at `depth` (1 = root), from remembered keys and element counts. */
  private path(depth: number): string {
    let p = '';
    for (let d = 1; d <= depth; d++) {
      if (this.kinds[d] === ARR) p += `[${this.counts[d]! - 1}]`;
      else {
        const k = keyText(this.keyText(d));
        p += p ? `.${k}` : k;
      }
    }
    return p || '(root)';
  }
}
