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
    for (let i = 0; i < n; i++) {
      let b = chunk[i]!;
      if (this.inString) {
        // The rest of the string in this chunk, in a tight loop: most of a body's bytes are string content.
        const key = this.stringIsKey;
        const slot = this.depth * (MAX_PATH_KEY + 1);
        for (;;) {
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) {
            this.inString = false;
            break;
          }
          if (key && this.keyBytes <= MAX_PATH_KEY) this.keyStore[slot + this.keyBytes++] = b;
          if (++i === n) break;
          b = chunk[i]!;
        }
        if (key && !this.inString) this.keyLength[this.depth] = this.keyBytes;
        continue;
      }
      if (isSpace(b)) continue;
      if (!this.started) {
        this.started = true;
        // Strict JSON bodies: an object or an array at the root, like express.json({ strict: true }).
        if (b !== 0x7b && b !== 0x5b) return this.fail(i, violation('syntax', {}, undefined, 'syntax.not-object'));
      }
      if (this.expectValue && b !== 0x5d && b !== 0x7d) {
        this.expectValue = false;
        if (++this.nodes > this.limits.maxNodes) return this.fail(i, violation('nodes', { limit: this.limits.maxNodes }));
        if (this.kinds[this.depth] === ARR && ++this.counts[this.depth]! > this.limits.maxArrayLength) {
          return this.fail(i, violation('array-length', { limit: this.limits.maxArrayLength }, this.path(this.depth - 1), 'array-length.more'));
        }
      }
      switch (b) {
        case QUOTE:
          this.inString = true;
          this.stringIsKey = this.kinds[this.depth] === OBJ && !this.afterColon;
          if (this.stringIsKey) {
            this.keyBytes = 0;
            const need = (this.depth + 1) * (MAX_PATH_KEY + 1);
            if (this.keyStore.length < need) {
              const grown = new Uint8Array(Math.max(need, this.keyStore.length * 2));
              grown.set(this.keyStore);
              this.keyStore = grown;
            }
          }
          break;
        case 0x7b: // {
        case 0x5b: // [
          if (this.depth + 1 > this.limits.maxDepth) {
            return this.fail(i, violation('depth', { limit: this.limits.maxDepth }, this.path(this.depth)));
          }
          this.depth++;
          this.kinds[this.depth] = b === 0x7b ? OBJ : ARR;
          this.counts[this.depth] = 0;
          this.afterColon = false;
          this.expectValue = b === 0x5b;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (this.depth === 0 || this.kinds[this.depth] !== (b === 0x7d ? OBJ : ARR)) {
            return this.fail(i, violation('syntax', {}, undefined, 'syntax.brackets'));
          }
          this.depth--;
          this.expectValue = false;
          this.afterColon = this.kinds[this.depth] === OBJ;
          break;
        case 0x3a: // :
          if (this.kinds[this.depth] === OBJ && ++this.counts[this.depth]! > this.limits.maxObjectKeys) {
            return this.fail(i, violation('object-keys', { limit: this.limits.maxObjectKeys }, this.path(this.depth - 1)));
          }
          this.afterColon = true;
          this.expectValue = true;
          break;
        case 0x2c: // ,
          this.afterColon = false;
          this.expectValue = this.kinds[this.depth] === ARR;
          break;
        default:
      }
    }
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
