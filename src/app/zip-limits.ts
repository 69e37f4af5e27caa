// Zip-bomb guard for XLSX files, run before the spreadsheet reader opens them (CLI import and console upload alike).
// exceljs reads the ZIP as a stream of local entries and inflates each to its end, trusting no size; so the check here
// (1) reads the central directory: entry count, declared sizes, compression ratio per entry; (2) requires the local
// entries to tile the file up to the central directory exactly (no hidden, overlapping or extra entries a streaming
// reader would meet but the directory does not list); (3) inflates every entry, counting the bytes that really come out
// and stopping at the first byte past what was declared or past the total cap. Only counters are held, never content.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInflateRaw } from 'node:zlib';
import { ImportFileError } from './import-errors.js';

export interface ZipLimits {
  /** Entries in the archive (an XLSX has about a dozen). */
  maxEntries: number;
  /** Sum of the entries' decompressed sizes. */
  maxTotalBytes: number;
  /** Decompressed / compressed size of one entry, checked for entries above `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

/**
 * A generated 50,000-row register is a 5 MB XLSX whose sheet inflates to 64 MB at a ratio near 12; these bounds leave
 * room for registers several times that and for Excel's own styles, and refuse what deflate can do at its worst (~1000:1).
 */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 1_000, maxTotalBytes: 512 * 1024 * 1024, maxRatio: 200, ratioFloorBytes: 1024 * 1024 };

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const DESCRIPTOR_SIG = 0x08074b50;
/** The end record (22 bytes) plus the longest comment it may carry. */
const EOCD_SEARCH = 22 + 0xffff;
const MAX_CENTRAL_BYTES = 4 * 1024 * 1024;

interface Entry {
  method: number;
  flags: number;
  compressed: number;
  uncompressed: number;
  localOffset: number;
}

/** `why`: which limit, as message import.zip.<why> (said inside file.zip-limits in the reader's language). */
const refusal = (why: string, params: Record<string, number> = {}): ImportFileError =>
  new ImportFileError('file.zip-limits', { ...params, '@reason': `import.zip.${why}` });
const refuse = (why: string, params?: Record<string, number>): never => {
  throw refusal(why, params);
};
const broken = (): never => {
  throw new ImportFileError('file.xlsx-broken');
};

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function centralDirectory(fh: FileHandle, size: number, limits: ZipLimits): Promise<{ entries: Entry[]; centralOffset: number }> {
  const tailStart = Math.max(0, size - EOCD_SEARCH);
  const tail = await readAt(fh, tailStart, size - tailStart);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD_SIG) { at = i; break; }
  if (at < 0) broken();
  const count = tail.readUInt16LE(at + 10);
  const centralSize = tail.readUInt32LE(at + 12);
  const centralOffset = tail.readUInt32LE(at + 16);
  // ZIP64 markers: only archives beyond 65,535 entries or 4 GB need it, far past any register.
  if (count === 0xffff || centralSize === 0xffffffff || centralOffset === 0xffffffff) refuse('zip64');
  if (count > limits.maxEntries) refuse('entries', { count, max: limits.maxEntries });
  if (centralSize > MAX_CENTRAL_BYTES || centralOffset + centralSize > tailStart + at) broken();
  const cd = await readAt(fh, centralOffset, centralSize);
  const entries: Entry[] = [];
  let total = 0;
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) broken();
    const e: Entry = {
      flags: cd.readUInt16LE(p + 8), method: cd.readUInt16LE(p + 10),
      compressed: cd.readUInt32LE(p + 20), uncompressed: cd.readUInt32LE(p + 24), localOffset: cd.readUInt32LE(p + 42),
    };
    if (e.compressed === 0xffffffff || e.uncompressed === 0xffffffff || e.localOffset === 0xffffffff) refuse('zip64');
    if (e.method !== 0 && e.method !== 8) broken();
    total += e.uncompressed;
    if (total > limits.maxTotalBytes) refuse('total', { max: limits.maxTotalBytes });
    if (e.uncompressed > limits.ratioFloorBytes && e.uncompressed > limits.maxRatio * Math.max(1, e.compressed)) {
      refuse('ratio', { ratio: Math.round(e.uncompressed / Math.max(1, e.compressed)), max: limits.maxRatio });
    }
    entries.push(e);
    p += 46 + cd.readUInt16LE(p + 28) + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
  }
  return { entries, centralOffset };
}

/** Bytes that really come out of an entry, stopping as soon as they pass `max`. */
function inflatedBytes(file: string, start: number, compressed: number, max: number): Promise<number> {
  return new Promise((resolve, reject) => {
    if (compressed === 0) return resolve(0);
    const source = createReadStream(file, { start, end: start + compressed - 1 });
    const inflate = createInflateRaw();
    let out = 0;
    const stop = (err: unknown) => {
      source.destroy();
      inflate.destroy();
      reject(err);
    };
    inflate.on('data', (chunk: Buffer) => {
      out += chunk.length;
      if (out > max) stop(refusal('entry-size'));
    });
    inflate.on('end', () => resolve(out));
    inflate.on('error', () => stop(new ImportFileError('file.xlsx-broken')));
    source.on('error', stop);
    source.pipe(inflate);
  });
}

/** Throws ImportFileError (`file.zip-limits`, `file.xlsx-broken`) unless the XLSX ZIP stays within the limits. */
export async function checkZipLimits(file: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<void> {
  const fh = await open(file, 'r');
  let entries: Entry[];
  let centralOffset: number;
  const starts: number[] = [];
  try {
    const size = (await fh.stat()).size;
    ({ entries, centralOffset } = await centralDirectory(fh, size, limits));
    // The local entries, in file order, must follow each other from byte 0 to the central directory without a gap.
    const ordered = entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.localOffset - b.e.localOffset);
    let expected = 0;
    for (const { e, i } of ordered) {
      if (e.localOffset !== expected) broken();
      const head = await readAt(fh, e.localOffset, 30);
      if (head.length < 30 || head.readUInt32LE(0) !== LOCAL_SIG) broken();
      const dataStart = e.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
      starts[i] = dataStart;
      expected = dataStart + e.compressed;
      if (e.flags & 0x08) {
        // A data descriptor follows the data: 12 bytes, or 16 with its optional signature.
        const d = await readAt(fh, expected, 4);
        expected += d.length === 4 && d.readUInt32LE(0) === DESCRIPTOR_SIG ? 16 : 12;
      }
    }
    if (expected !== centralOffset) broken();
  } finally {
    await fh.close();
  }
  let total = 0;
  for (const [i, e] of entries.entries()) {
    const got = e.method === 0 ? e.compressed : await inflatedBytes(file, starts[i]!, e.compressed, Math.min(e.uncompressed, limits.maxTotalBytes - total));
    if (got !== e.uncompressed) broken();
    total += got;
  }
}
