// The console's file upload: a multipart/form-data POST parsed by busboy as it streams in. The form's fields come before
// its file (the page puts them first, as browsers send them in order); when the file part starts, the router decides on
// those fields (CSRF, facility, template, a free import slot) and only then is the file written: to a private spool
// file (mode 0600, in a per-process 0700 folder), never past the size cap. A refused or oversized upload leaves no file.
import busboy from 'busboy';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Request } from 'express';
import { formatOf, type SheetFormat } from '../app/import-readers.js';

/** CONSOLE_UPLOAD_MAX_MB default: a 50,000-row register is 14 MB as CSV, 5 MB as XLSX. */
export const DEFAULT_UPLOAD_MAX_BYTES = 32 * 1024 * 1024;
/** The form's fields besides the file; any other part makes the form invalid. */
export const UPLOAD_FIELDS = ['_csrf', 'organizationId', 'template', 'dryRun'] as const;
export const FILE_FIELD = 'file';
/** Past the cap the rest of the body is read and dropped (so the browser gets the answer); beyond this much more, the connection is cut. */
const DRAIN_SLACK_BYTES = 8 * 1024 * 1024;

/** Where uploads wait for their import: one private folder per process, removed at `dispose`. */
export class UploadSpool {
  private dir: string | undefined;

  constructor(private readonly root = os.tmpdir()) {}

  /** A new file path in the folder (created on first use; mkdtemp makes it 0700). */
  file(format: SheetFormat): string {
    this.dir ??= mkdtempSync(path.join(this.root, 'ilp-upload-'));
    return path.join(this.dir, `${randomBytes(12).toString('hex')}.${format}`);
  }

  /** The folder, if one was made (tests look into it). */
  get folder(): string | undefined {
    return this.dir;
  }

  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

export type Fields = ReadonlyMap<string, string>;

/** The router's answer when the file part starts: go on (writing the file), or refuse with this outcome. */
export type FileDecision<R> = { accept: true } | { accept: false; refusal: R };

export type UploadOutcome<R> =
  | { status: 'received'; fields: Fields; file: string; format: SheetFormat }
  | { status: 'refused'; refusal: R }
  | { status: 'too-large' }
  /** Not multipart, an unexpected or repeated part, no file, a file that is neither .csv nor .xlsx, a broken body. */
  | { status: 'bad-form'; reason: string }
  | { status: 'unsupported-type' }
  /** The decision itself failed (the store could not take the job): the caller answers it as a server error. */
  | { status: 'failed'; error: unknown };

export interface ReceiveOptions<R> {
  spool: UploadSpool;
  maxBytes: number;
  /** Called once, when the file part starts, with the fields sent before it (the file waits for the answer). */
  decide: (fields: Fields) => FileDecision<R> | Promise<FileDecision<R>>;
}

/** Reads the upload; resolves once the body is consumed and the file (if accepted and whole) is on disk. */
export function receiveUpload<R>(req: Request, opts: ReceiveOptions<R>): Promise<UploadOutcome<R>> {
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: opts.maxBytes, files: 1, fields: UPLOAD_FIELDS.length, parts: UPLOAD_FIELDS.length + 1, fieldNameSize: 32, fieldSize: 512, headerPairs: 20 },
      });
    } catch {
      req.resume();
      return resolve({ status: 'bad-form', reason: 'not multipart/form-data' });
    }
    const fields = new Map<string, string>();
    let outcome: UploadOutcome<R> | undefined;
    let written: Promise<void> = Promise.resolve();
    // The decision on the file part (it may ask the store): the outcome waits for it, so a reservation is never missed.
    let deciding: Promise<void> = Promise.resolve();
    let spoolFile: string | undefined;
    let accepted: SheetFormat | undefined;
    let out: WriteStream | undefined;
    let seenFile = false;
    const fail = (o: UploadOutcome<R>) => void (outcome ??= o);

    parser.on('field', (name, value, info) => {
      if (!(UPLOAD_FIELDS as readonly string[]).includes(name) || fields.has(name) || info.valueTruncated || seenFile) return fail({ status: 'bad-form', reason: `field ${name.slice(0, 32)}` });
      fields.set(name, value);
    });
    parser.on('file', (name, stream, info) => {
      if (name !== FILE_FIELD || seenFile || outcome) {
        stream.resume();
        return fail({ status: 'bad-form', reason: 'unexpected file part' });
      }
      seenFile = true;
      if (!info.filename) {
        stream.resume(); // an empty file input is sent as a part without a name
        return fail({ status: 'bad-form', reason: 'no file chosen' });
      }
      const format = formatOf(info.filename);
      if (!format) {
        stream.resume();
        return fail({ status: 'unsupported-type' });
      }
      // Heard from the start: the part may pass the cap while the decision is awaited.
      stream.on('limit', () => {
        fail({ status: 'too-large' });
        out?.destroy();
        stream.resume(); // busboy drops the rest of the part; it must still be read for the body to end
      });
      const before = outcome;
      deciding = Promise.resolve().then(() => opts.decide(fields)).then((decision) => {
        // A refusal answers what came before the file, so it wins over what failed while it was awaited.
        if (!decision.accept) outcome = before ?? { status: 'refused', refusal: decision.refusal };
        // The body may have failed meanwhile (cut off, over the cap): then nothing is written.
        if (outcome) {
          stream.resume();
          return;
        }
        spool(stream, format);
      }, (error: unknown) => {
        stream.resume();
        fail({ status: 'failed', error });
      });
    });
    const spool = (stream: NodeJS.ReadableStream, format: SheetFormat) => {
      const file = opts.spool.file(format);
      spoolFile = file;
      accepted = format;
      const spooling = createWriteStream(file, { flags: 'wx', mode: 0o600 });
      out = spooling;
      written = new Promise<void>((done) => {
        spooling.on('close', done);
        spooling.on('error', () => {
          fail({ status: 'bad-form', reason: 'could not write the upload' });
          stream.resume();
        });
      });
      stream.pipe(spooling);
    };
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) parser.on(limit, () => fail({ status: 'bad-form', reason: limit }));

    let bodyBytes = 0;
    const hardCap = opts.maxBytes + DRAIN_SLACK_BYTES;
    const onData = (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (bodyBytes > hardCap) {
        fail({ status: 'too-large' });
        req.unpipe(parser);
        req.off('data', onData);
        finish();
        req.destroy();
      }
    };
    req.on('data', onData);

    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      // A body that ended early (aborted, broken, cut off) leaves its spool file half written: stop writing it.
      if (outcome && outcome.status !== 'received') out?.destroy();
      void deciding.then(() => written).then(async () => {
        const final: UploadOutcome<R> = outcome ?? (accepted && spoolFile ? { status: 'received', fields, file: spoolFile, format: accepted } : { status: 'bad-form', reason: 'no file' });
        if (final.status !== 'received' && spoolFile) await unlink(spoolFile).catch(() => {});
        resolve(final);
      });
    };
    parser.on('close', finish);
    parser.on('error', () => {
      fail({ status: 'bad-form', reason: 'malformed multipart body' });
      req.unpipe(parser);
      req.resume();
      finish();
    });
    // A client gone mid-body: the request closes incomplete (it may also emit an error, which must not go unheard).
    req.on('error', () => {});
    req.on('close', () => {
      if (req.complete) return;
      fail({ status: 'bad-form', reason: 'upload aborted' });
      finish();
    });
    req.pipe(parser);
  });
}
