import { JsonStreamGuard, type StreamViolation } from '../../src/util/json-stream-guard.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../../src/util/json-limits.js';

const LIMITS: JsonLimits = { maxDepth: 4, maxArrayLength: 3, maxObjectKeys: 2, maxNodes: 12 };

/** Runs the guard over `text` cut into chunks of `size` bytes; the first violation, or undefined. */
function check(text: string, limits: JsonLimits = LIMITS, size = text.length || 1): StreamViolation | undefined {
  const guard = new JsonStreamGuard(limits);
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) {
    const v = guard.write(bytes.subarray(i, i + size));
    if (v) return v;
  }
  return undefined;
}

/** Every way of cutting `text` into chunks of 1..7 bytes gives the same answer. */
function checkAllSplits(text: string, limits: JsonLimits = LIMITS): StreamViolation | undefined {
  const whole = check(text, limits);
  for (let size = 1; size <= 7; size++) expect(check(text, limits, size)).toEqual(whole);
  return whole;
}

describe('JsonStreamGuard limits, at the boundaries', () => {
  it('depth: 4 levels pass, 5 fail with the path of the offending container', () => {
    expect(checkAllSplits('[[[[1]]]]')).toBeUndefined();
    expect(checkAllSplits('{"a":[{"b":[[1]]}]}')).toMatchObject({ kind: 'depth', path: 'a[0].b[0]' });
    expect(checkAllSplits('[[[[[1]]]]]')?.kind).toBe('depth');
  });

  it('array length: 3 elements pass, 4 fail; empty arrays count none', () => {
    expect(checkAllSplits('{"x":[1,2,3],"y":[]}')).toBeUndefined();
    expect(checkAllSplits('{"x":[1,2,[],4]}')).toMatchObject({ kind: 'array-length', path: 'x', message: expect.stringContaining('more than 3') });
    expect(checkAllSplits('[1,2,3,4]')).toMatchObject({ kind: 'array-length', path: '(root)' });
  });

  it('object members: 2 pass, 3 fail (nested objects counted on their own)', () => {
    expect(checkAllSplits('{"a":{"c":1,"d":2},"b":{}}')).toBeUndefined();
    expect(checkAllSplits('[{"a":1,"b":2,"c":3}]')).toMatchObject({ kind: 'object-keys', path: '[0]' });
  });

  it('total values: 12 pass, 13 fail (containers and primitives alike)', () => {
    const twelve = '[[1,2,3],[4,5,6],[7,8]]'; // 1 root + 3 arrays + 8 numbers
    expect(checkAllSplits(twelve)).toBeUndefined();
    expect(checkAllSplits('[[1,2,3],[4,5,6],[7,8,9]]')?.kind).toBe('nodes');
  });

  it('the defaults match those of checkJsonLimits (64 levels)', () => {
    expect(check('['.repeat(64) + ']'.repeat(64), DEFAULT_JSON_LIMITS)).toBeUndefined();
    expect(check('['.repeat(65) + ']'.repeat(65), DEFAULT_JSON_LIMITS)?.kind).toBe('depth');
  });
});

describe('JsonStreamGuard reading strings', () => {
  it('brackets, commas and colons inside strings are text, not structure', () => {
    expect(checkAllSplits('{"a":"[[[[[[{{{{,,,,::::","b":"]]]}}}"}')).toBeUndefined();
  });

  it('escaped quotes and backslashes do not end a string early', () => {
    expect(checkAllSplits('{"a":"say \\"[[[[[[\\" \\\\","b":"\\\\"}')).toBeUndefined();
    // After `\\` the string ends: the brackets that follow are structure again.
    expect(checkAllSplits('["\\\\",[[[[1]]]]]')?.kind).toBe('depth');
  });

  it('multi-byte UTF-8 split across chunks changes nothing', () => {
    expect(checkAllSplits('{"nama":"Ñoño 😀 [","b":["é","ü"]}')).toBeUndefined();
  });

  it('keys that could be personal data are not echoed in paths', () => {
    expect(check('{"3171012501900001":[1,2,3,4]}')).toMatchObject({ kind: 'array-length', path: '(key)' });
  });
});

describe('JsonStreamGuard and invalid JSON', () => {
  it('a primitive at the root or mismatched brackets are syntax errors', () => {
    expect(check('"text"')?.kind).toBe('syntax');
    expect(check('42')?.kind).toBe('syntax');
    expect(checkAllSplits('[1}')?.kind).toBe('syntax');
    expect(checkAllSplits('{"a":1]')?.kind).toBe('syntax');
    expect(check(']')?.kind).toBe('syntax');
  });

  it('keeps answering the first violation', () => {
    const guard = new JsonStreamGuard(LIMITS);
    const first = guard.write(Buffer.from('[[[[[[['));
    expect(first?.kind).toBe('depth');
    expect(guard.write(Buffer.from('1'))).toBe(first);
  });
});

describe('JsonStreamGuard against 5 MB hostile bodies', () => {
  const FIVE_MB = 5 * 1024 * 1024;
  const CHUNK = 64 * 1024;

  /** Feeds chunks from `make(i)` until the guard objects; bytes fed in all. */
  function feed(make: (i: number) => Buffer): { bytesFed: number; violation: StreamViolation | undefined; guard: JsonStreamGuard } {
    const guard = new JsonStreamGuard(DEFAULT_JSON_LIMITS);
    let bytesFed = 0;
    for (let i = 0; bytesFed < FIVE_MB; i++) {
      const chunk = make(i);
      bytesFed += chunk.length;
      const violation = guard.write(chunk);
      if (violation) return { bytesFed, violation, guard };
    }
    return { bytesFed, violation: undefined, guard };
  }

  it('an array nested 2.5 million levels is refused within the first chunk', () => {
    const brackets = Buffer.alloc(CHUNK, '[');
    const r = feed(() => brackets);
    expect(r.violation?.kind).toBe('depth');
    expect(r.bytesFed).toBe(CHUNK);
    expect(r.guard.bytesSeen).toBe(65);
  });

  it('an object with 300,000 keys is refused after about a thousand of them', () => {
    const keys = (i: number) => Buffer.from((i === 0 ? '{' : ',') + Array.from({ length: 2000 }, (_, j) => `"k${i}_${j}":1`).join(','));
    const r = feed(keys);
    expect(r.violation?.kind).toBe('object-keys');
    expect(r.guard.bytesSeen).toBeLessThan(20_000);
    expect(r.bytesFed).toBeLessThan(FIVE_MB / 50);
  });
});
