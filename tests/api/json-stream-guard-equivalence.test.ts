// The guard now keeps the keys of error paths as bytes (text made only when a path is reported) and reads string content in a tight
// loop (speed: a string per key of every body was most of its cost). These hold it to the previous guard, kept here verbatim as
// the reference: the same answer (kind, path, limit, message) and the same bytesSeen, for bodies cut into chunks of every size,
// with violations at many places, under keys that are long, escaped, non-ASCII or cut by a chunk boundary.
import { JsonStreamGuard } from '../../src/util/json-stream-guard.js';
import { keyText, violation, type JsonLimits, type JsonLimitViolation } from '../../src/util/json-limits.js';
import { mapVisit } from '../../src/mapping/index.js';
import { NOW, samples, tables } from '../mapping/helpers.js';

type Violation = Omit<JsonLimitViolation, 'kind'> & { kind: JsonLimitViolation['kind'] | 'syntax' };

const OBJ = 1;
const ARR = 2;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Longest key remembered for an error path; longer keys show as '(key)'. */
const MAX_PATH_KEY = 64;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Feed it the body chunk by chunk; `write` answers the first violation (and keeps answering it). */
class ReferenceGuard {
  /** Bytes looked at so far (stops growing at the first violation). */
  bytesSeen = 0;
  private depth = 0;
  private readonly kinds: Uint8Array;
  /** Array elements, or object members, seen so far at each depth. */
  private readonly counts: Uint32Array;
  private readonly keys: string[] = [];
  private nodes = 0;
  private inString = false;
  private escaped = false;
  private expectValue = true;
  private stringIsKey = false;
  private keyBytes: number[] = [];
  private violation: Violation | undefined;
  private started = false;

  constructor(private readonly limits: JsonLimits & { maxObjectKeys: number }) {
    this.kinds = new Uint8Array(limits.maxDepth + 2);
    this.counts = new Uint32Array(limits.maxDepth + 2);
  }

  write(chunk: Uint8Array): Violation | undefined {
    if (this.violation) return this.violation;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        if (this.stringIsKey) {
          if (this.inString && this.keyBytes.length <= MAX_PATH_KEY) this.keyBytes.push(b);
          else if (!this.inString) this.keys[this.depth] = this.keyBytes.length <= MAX_PATH_KEY ? Buffer.from(this.keyBytes).toString('latin1') : '(key)';
        }
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
          if (this.stringIsKey) this.keyBytes = [];
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

  private fail(at: number, v: Violation): Violation {
    this.bytesSeen += at + 1;
    if (v.path === undefined) delete v.path;
    this.violation = v;
    return v;
  }

  /** JSON path of the container open at `depth` (1 = root), from remembered keys and element counts. */
  private path(depth: number): string {
    let p = '';
    for (let d = 1; d <= depth; d++) {
      if (this.kinds[d] === ARR) p += `[${this.counts[d]! - 1}]`;
      else {
        const k = keyText(this.keys[d] ?? '(key)');
        p += p ? `.${k}` : k;
      }
    }
    return p || '(root)';
  }
}


type Guard = { write(chunk: Uint8Array): unknown; bytesSeen: number };
function run(make: () => Guard, bytes: Buffer, size: number): { v: unknown; seen: number } {
  const g = make();
  let v: unknown;
  for (let i = 0; i < bytes.length && v === undefined; i += size) v = g.write(bytes.subarray(i, i + size));
  return { v, seen: g.bytesSeen };
}

function same(text: string, limits: JsonLimits & { maxObjectKeys: number }, sizes: number[]): void {
  const bytes = Buffer.from(text, 'utf8');
  for (const size of sizes) {
    const want = run(() => new ReferenceGuard(limits), bytes, size);
    const got = run(() => new JsonStreamGuard(limits), bytes, size);
    expect([size, got]).toEqual([size, want]);
  }
}

const bundles = samples.map((s) => JSON.stringify(mapVisit(s.record, tables, { now: NOW }).bundle, null, s.name.length % 2 ? 1 : undefined));
const wide: JsonLimits & { maxObjectKeys: number } = { maxDepth: 64, maxArrayLength: 10_000, maxNodes: 1_000_000, maxObjectKeys: 1_000 };

describe('JsonStreamGuard equals the previous guard', () => {
  it('on the mapped sample Bundles, whole and in chunks, within the limits and at tight ones', () => {
    for (const text of bundles) {
      same(text, wide, [text.length, 1, 3, 64, 1000]);
      for (const limits of [
        { ...wide, maxDepth: 5 }, { ...wide, maxDepth: 7 }, { ...wide, maxArrayLength: 3 }, { ...wide, maxObjectKeys: 4 },
        { ...wide, maxNodes: 150 }, { ...wide, maxNodes: 400 },
      ]) same(text, limits, [text.length, 1, 7]);
    }
  });

  it('with keys that are long, escaped, non-ASCII, repeated at a depth, or cut by a chunk boundary', () => {
    const long = 'k'.repeat(64), longer = 'k'.repeat(65), longest = 'k'.repeat(300);
    const texts = [
      `{"${long}":{"${longer}":{"x":[[[[[[1]]]]]]}}}`,
      `{"${longest}":{"é\\\"ü😀":{"a\u0041":[{"b":{"c":{"d":{"e":{"f":1}}}}}]}}}`,
      '{"a":{"b":1},"c":{"d":[1,2,3,4,5,6]}}',
      '{"a":{"b":1,"c":2,"d":3,"e":4,"f":5,"g":6}}',
      '{"first":{"x":1},"second":{"y":{"z":{"w":{"v":{"u":{"t":1}}}}}}}',
      '{"q":"\\","r":"\"","s":{"t\\":{"u":[1,{"v\"w":{"deep":{"er":{"still":[[1]]}}}}]}}}',
      '[{"a":1},{"b":2},{"c":3},{"d":4}]', '{"a":1,}', '{"a":1]', '"text"', ' \n{"a": [1, 2 , {"b" : "c"}]}', '', '{}', '[]',
    ];
    for (const text of texts) {
      for (const limits of [wide, { ...wide, maxDepth: 4 }, { ...wide, maxArrayLength: 3 }, { ...wide, maxObjectKeys: 3 }, { ...wide, maxNodes: 6 }]) {
        same(text, limits, [Math.max(1, Buffer.byteLength(text)), 1, 2, 3, 5, 8, 13]);
      }
    }
  });
});
