// Deterministic UUIDs for Bundle fullUrls: the same visit maps to the same urn:uuid values every time (RFC 4122 name-based, version 5).
// SHA-1 is computed here in plain JS: a visit needs ~16 of these over ~60-byte inputs, where node:crypto's per-call cost (Buffer
// allocations, the native boundary) was ~9 % of map + validate; this is about 4× cheaper per id. Same bytes as crypto's sha1
// (tests/mapping/uuid.test.ts checks against it).

// Project namespace (a fixed random UUID) so our ids never collide with other v5 users of the same names.
const NAMESPACE = Buffer.from('4f0c7b1e9a3d4c58b2e61d7f3a9c0e25', 'hex');
const SEP = '\u001f'; // unit separator: cannot occur in the ids the schema accepts, so ('a','bc') ≠ ('ab','c')

const encoder = new TextEncoder();
/** Message scratch (namespace ‖ name ‖ padding), grown when a name is longer; reused: mapping is synchronous. */
let scratch = new Uint8Array(256);
const words = new Int32Array(80);
const state = new Int32Array(5);
/**
 * The first 64-byte block of the last message of two or more blocks, and the state after it. A visit's ids are
 * sha1(namespace ‖ organizationId ‖ visitId ‖ key), one after another: with the usual id lengths the first block ends inside the
 * key, so consecutive keys with the same beginning ('observatio…') share it and it is hashed once. The state after a block
 * depends on nothing but its 64 bytes, so reusing it when they are equal gives the same digest.
 */
const lastFirstBlock = new Int32Array(16);
const lastFirstState = new Int32Array(5);
let haveFirst = false;

/** RFC 4122 v5-style UUID from sha1(namespace ‖ parts joined by U+001F). Callers pass ids only, never NIK or names. */
export function deterministicUuid(...parts: string[]): string {
  const name = parts.join(SEP);
  const len = writeName(name, 16);
  scratch.set(NAMESPACE, 0);
  prefixOwner = undefined;
  writeUuid(sha1(scratch, len));
  return FULL_URL.toString('latin1', 9, 45);
}

/**
 * The fullUrls of one visit's entries: `urn:uuid:` + deterministicUuid(organizationId, visitId, key). The bytes of namespace ‖
 * organizationId ‖ visitId are encoded once per visit, not once per key. Each call hashes: callers keep a fullUrl they need twice
 * (a memo keyed by the key text cost about what it saved). Mapping is synchronous: a namer is used while its visit maps.
 */
export function visitFullUrls(organizationId: string, visitId: string): (key: string) => string {
  const prefix = `${organizationId}${SEP}${visitId}${SEP}`;
  const owner = {};
  let prefixLen = 0;
  return (key: string): string => {
    // The scratch holds this visit's prefix unless another name was hashed since (deterministicUuid, another visit).
    if (prefixOwner !== owner) {
      prefixLen = writeName(prefix, 16);
      scratch.set(NAMESPACE, 0);
      prefixOwner = owner;
    }
    return fullUrlOf(sha1(scratch, writeName(key, prefixLen)));
  };
}

/** Which visitFullUrls namer's prefix scratch holds (undefined: none). */
let prefixOwner: object | undefined;

/** Writes `name` as UTF-8 into scratch from byte `at` (growing it with room for SHA-1 padding); returns the end. */
function writeName(name: string, at: number): number {
  // UTF-8 is at most 3 bytes per UTF-16 unit; + 9 bytes of padding and length, rounded up to a 64-byte block.
  const need = (((at + name.length * 3 + 9 + 63) >> 6) << 6);
  if (scratch.length < need) {
    const grown = new Uint8Array(need);
    grown.set(scratch.subarray(0, at));
    scratch = grown;
  }
  const msg = scratch;
  let len = at;
  // ASCII by hand (Buffer.write's wrapper cost more than this loop for names this short); anything else through TextEncoder.
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return at + encoder.encodeInto(name, msg.subarray(at)).written;
    msg[len++] = c;
  }
  return len;
}

/** SHA-1 (FIPS 180-4) of msg[0, len); msg must have room for the padding. Returns the five state words (a shared array: read before the next call). */
function sha1(msg: Uint8Array, len: number): Int32Array {
  const blocks = (len + 9 + 63) >> 6;
  const end = blocks << 6;
  msg[len] = 0x80;
  for (let i = len + 1; i < end - 4; i++) msg[i] = 0; // a few bytes: a loop is cheaper than fill's native call
  const bits = len * 8; // names are short: the length fits the low 32 bits
  msg[end - 4] = bits >>> 24;
  msg[end - 3] = (bits >>> 16) & 0xff;
  msg[end - 2] = (bits >>> 8) & 0xff;
  msg[end - 1] = bits & 0xff;
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  const w = words;
  let from = 0;
  if (end > 64) {
    let same = haveFirst;
    for (let t = 0; t < 16; t++) {
      const j = t * 4;
      const word = (msg[j] << 24) | (msg[j + 1] << 16) | (msg[j + 2] << 8) | msg[j + 3];
      if (word !== lastFirstBlock[t]) same = false;
      lastFirstBlock[t] = word;
    }
    if (same) {
      h0 = lastFirstState[0]; h1 = lastFirstState[1]; h2 = lastFirstState[2]; h3 = lastFirstState[3]; h4 = lastFirstState[4];
      from = 64;
    }
  }
  for (let off = from; off < end; off += 64) {
    for (let t = 0; t < 16; t++) {
      const j = off + t * 4;
      w[t] = (msg[j] << 24) | (msg[j + 1] << 16) | (msg[j + 2] << 8) | msg[j + 3];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    // Four rounds of 20 steps, each with its own function and constant (one loop with a branch per step is slower).
    for (let t = 0; t < 20; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
    }
    for (let t = 20; t < 40; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
    }
    for (let t = 40; t < 60; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[t]) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
    }
    for (let t = 60; t < 80; t++) {
      const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[t]) | 0;
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0; h4 = (h4 + e) | 0;
    if (off === 0 && end > 64) {
      lastFirstState[0] = h0; lastFirstState[1] = h1; lastFirstState[2] = h2; lastFirstState[3] = h3; lastFirstState[4] = h4;
      haveFirst = true;
    }
  }
  const out = state;
  out[0] = h0; out[1] = h1; out[2] = h2; out[3] = h3; out[4] = h4;
  return out;
}

/** `urn:uuid:` and a UUID's 36 characters, the four dashes in place: the first 16 digest bytes are written into it as hex (with
 *  the version (5) and RFC 4122 variant bits set) and read as one flat string (a concatenation of 21 pieces made a rope that
 *  every later Map lookup and serialisation of the fullUrl flattened again). */
const FULL_URL = Buffer.from('urn:uuid:00000000-0000-0000-0000-000000000000', 'latin1');
const HEX_CHAR = Buffer.from('0123456789abcdef', 'latin1');
function putHex(at: number, byte: number): void {
  FULL_URL[at] = HEX_CHAR[(byte >>> 4) & 15];
  FULL_URL[at + 1] = HEX_CHAR[byte & 15];
}
function writeUuid(h: Int32Array): void {
  const w0 = h[0], w1 = h[1], w2 = h[2], w3 = h[3];
  putHex(9, w0 >>> 24); putHex(11, w0 >>> 16); putHex(13, w0 >>> 8); putHex(15, w0);
  putHex(18, w1 >>> 24); putHex(20, w1 >>> 16); putHex(23, ((w1 >>> 8) & 0x0f) | 0x50); putHex(25, w1);
  putHex(28, ((w2 >>> 24) & 0x3f) | 0x80); putHex(30, w2 >>> 16); putHex(33, w2 >>> 8); putHex(35, w2);
  putHex(37, w3 >>> 24); putHex(39, w3 >>> 16); putHex(41, w3 >>> 8); putHex(43, w3);
}
function fullUrlOf(h: Int32Array): string {
  writeUuid(h);
  return FULL_URL.toString('latin1', 0, 45);
}
