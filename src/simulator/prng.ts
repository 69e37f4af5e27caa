// Seeded pseudo-random numbers so fault injection and generated ids are reproducible from `seed`.

/** mulberry32: small, fast, good enough for test fault decisions (not for secrets). Returns floats in [0, 1). */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 4122 version-4-shaped UUID from a PRNG (deterministic for a given seed). */
export function uuidFrom(rand: () => number): string {
  const hex: string[] = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** `len` decimal digits from a PRNG. */
export function digitsFrom(rand: () => number, len: number): string {
  let out = '';
  for (let i = 0; i < len; i++) out += Math.floor(rand() * 10).toString();
  return out;
}
