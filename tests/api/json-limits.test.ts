import { checkJsonLimits, DEFAULT_JSON_LIMITS } from '../../src/util/json-limits.js';

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe('checkJsonLimits', () => {
  it('accepts ordinary documents', () => {
    expect(checkJsonLimits({ resourceType: 'Patient', name: [{ text: 'x' }] })).toBeUndefined();
    expect(checkJsonLimits(nested(63))).toBeUndefined(); // 63 containers, depth 63 ≤ 64
  });

  it('rejects nesting past the limit without recursion (100,000 levels)', () => {
    const v = checkJsonLimits(nested(100_000));
    expect(v?.kind).toBe('depth');
    expect(v?.message).toContain('64');
  });

  it('names the path of the offending element', () => {
    const v = checkJsonLimits({ entry: [{ resource: { deep: nested(70) } }] });
    expect(v?.kind).toBe('depth');
    expect(v?.path).toMatch(/^entry\[0\]\.resource\.deep(\.a|\[0\])+/);
  });

  it('rejects huge arrays with the path and the count', () => {
    const v = checkJsonLimits({ resourceType: 'Bundle', entry: new Array(1_000_000).fill(0) });
    expect(v).toEqual({ kind: 'array-length', message: expect.stringContaining('1000000 elements'), path: 'entry', ref: { key: 'json-limits.array-length', params: { count: 1_000_000, limit: 10_000 } } });
    expect(checkJsonLimits(new Array(10_001).fill(0))?.path).toBe('(root)');
  });

  it('rejects documents with too many values', () => {
    const many = Array.from({ length: 200 }, () => Array.from({ length: 10 }, () => ({ a: 1, b: 2 })));
    expect(checkJsonLimits(many, { ...DEFAULT_JSON_LIMITS, maxNodes: 5000 })?.kind).toBe('nodes');
    expect(checkJsonLimits(many, DEFAULT_JSON_LIMITS)).toBeUndefined();
  });

  it('never echoes a key that may be personal data (a NIK or a name) in the path', () => {
    const doc = { entry: [{ '3171012345678901': { 'Budi Santoso': Array.from({ length: 10_001 }, () => 0) } }] };
    const v = checkJsonLimits(doc);
    expect(v?.kind).toBe('array-length');
    expect(v?.path).not.toMatch(/3171012345678901|Budi/);
    expect(v?.path).toMatch(/^entry\[0\]/);
    expect(checkJsonLimits({ entry: [{ resource: { name: Array.from({ length: 10_001 }, () => 0) } }] })?.path).toBe('entry[0].resource.name');
  });
});

