// Streaming input for the CLI: one JSON document (possibly pretty-printed over many lines), a JSON array, or NDJSON.
// Detection without reading everything: if the first non-blank line parses alone it is NDJSON (a single such line
// is reported as a single document); if it starts with `{`/`[` but does not parse alone, lines are buffered (up to
// `maxDocumentBytes`) and parsed as one document at the end; if that fails, the buffered lines are replayed as NDJSON.
// NDJSON is processed line by line with readline: memory stays bounded by the longest line.
import { AppError } from '../util/app-error.js';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export type InputMode = 'single' | 'ndjson' | 'array';

export type InputItem =
  /** `index`: 1-based position of the element, for items of a top-level JSON array (which all share its start line). */
  | { ok: true; mode: InputMode; line: number; label: string; value: unknown; index?: number }
  /** The line (or document) is not JSON; `reason` is content-free; `at`: the 1-based character where parsing failed, when known. */
  | { ok: false; mode: InputMode; line: number; label: string; reason: string; at?: number };

export interface ReadOptions {
  /** Largest multi-line document buffered before giving up and reading line by line. Default 64 MiB. */
  maxDocumentBytes?: number;
}

function parseFailure(err: unknown): { reason: string; at?: number } {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return m ? { reason: `not valid JSON (error at character ${Number(m[1]) + 1})`, at: Number(m[1]) + 1 } : { reason: 'not valid JSON' };
}

function parseLine(text: string, line: number, mode: InputMode): InputItem {
  try {
    return { ok: true, mode, line, label: `line ${line}`, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, mode, line, label: `line ${line}`, ...parseFailure(err) };
  }
}

export async function* readItems(input: Readable, opts: ReadOptions = {}): AsyncGenerator<InputItem> {
  const maxDoc = opts.maxDocumentBytes ?? 64 * 1024 * 1024;
  let inputError: unknown;
  input.once('error', (err) => {
    inputError = err;
  });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let state: 'start' | 'pending' | 'ndjson' | 'document' = 'start';
  let pending: InputItem | undefined; // first line that parsed alone: single or NDJSON, decided by what follows
  let doc: Array<[number, string]> = [];
  let docBytes = 0;
  let lineNo = 0;

  for await (let text of rl) {
    lineNo++;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM
    if (state === 'document') {
      doc.push([lineNo, text]);
      docBytes += text.length + 1;
      if (docBytes > maxDoc) {
        // Too big to be one document we are willing to hold: read it as NDJSON instead.
        state = 'ndjson';
        for (const [n, t] of doc) if (t.trim() !== '') yield parseLine(t, n, 'ndjson');
        doc = [];
      }
      continue;
    }
    if (text.trim() === '') continue; // blank lines are skipped, but counted
    if (state === 'ndjson') {
      yield parseLine(text, lineNo, 'ndjson');
      continue;
    }
    if (state === 'pending') {
      state = 'ndjson';
      yield { ...(pending as InputItem), mode: 'ndjson' };
      pending = undefined;
      yield parseLine(text, lineNo, 'ndjson');
      continue;
    }
    // state === 'start': the first non-blank line decides.
    const first = parseLine(text, lineNo, 'single');
    const c = text.trimStart()[0];
    if (first.ok) {
      state = 'pending';
      pending = first;
    } else if (c === '{' || c === '[') {
      state = 'document';
      doc.push([lineNo, text]);
      docBytes = text.length + 1;
    } else {
      state = 'ndjson';
      yield { ...first, mode: 'ndjson' };
    }
  }
  if (inputError) throw inputError;

  if (state === 'pending' && pending) {
    if (pending.ok && Array.isArray(pending.value)) yield* arrayItems(pending.value, pending.line);
    else yield pending;
  } else if (state === 'document') {
    const startLine = doc[0]?.[0] ?? 1;
    let value: unknown;
    let parsed = false;
    try {
      value = JSON.parse(doc.map(([, t]) => t).join('\n'));
      parsed = true;
    } catch {
      // Not one document: replay as NDJSON so each bad line is reported with its number.
    }
    if (parsed && Array.isArray(value)) yield* arrayItems(value, startLine);
    else if (parsed) yield { ok: true, mode: 'single', line: startLine, label: `line ${startLine}`, value };
    else for (const [n, t] of doc) if (t.trim() !== '') yield parseLine(t, n, 'ndjson');
  }
}

function* arrayItems(values: unknown[], line: number): Generator<InputItem> {
  for (let i = 0; i < values.length; i++) {
    yield { ok: true, mode: 'array', line, label: `item ${i + 1}`, value: values[i], index: i + 1 };
  }
}

/**
 * The id that ties an output (an OperationOutcome) to its input: `line-N` (1-based line number in the input, blank lines
 * counted; a multi-line document gets the line it starts on) or `item-N` for elements of a top-level JSON array.
 * Both are legal FHIR ids ([A-Za-z0-9-.]{1,64}).
 */
export function itemId(item: InputItem): string {
  return item.ok && item.index !== undefined ? `item-${item.index}` : `line-${item.line}`;
}

/** Help text shared by the commands that read NDJSON. */
export const LINE_ID_HELP =
  'Each OperationOutcome has id line-N, N being the 1-based number of the input line it judges (blank lines are skipped:\n' +
  'they produce no output but are counted, so ids stay aligned with the input). A multi-line document gets the line it\n' +
  'starts on; the elements of a top-level JSON array get item-N (item-1, item-2, ...).';

/** Writes one line, waiting for `drain` when the stream is full (constant memory on large outputs). */
export async function writeLine(out: Writable, text: string): Promise<void> {
  if (!out.write(`${text}\n`)) await once(out, 'drain');
}

/** Opens `file` ('-' = stdin) for streaming; throws a message fit for the user when it cannot be read. */
export async function openInput(file: string, stdin: Readable): Promise<Readable> {
  if (file === '-') return stdin;
  let handle;
  try {
    handle = await open(file, 'r');
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    await handle?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no-such-file' : code === 'EACCES' ? 'permission-denied' : code === 'EISDIR' ? 'is-directory' : 'cannot-be-read';
    throw new CliInputError(`${file}: ${{ 'no-such-file': 'no such file', 'permission-denied': 'permission denied', 'is-directory': 'is a directory', 'cannot-be-read': 'cannot be read' }[why]}`, file, why);
  }
  return handle.createReadStream({ encoding: 'utf8' });
}

export class CliInputError extends AppError {
  /** `why`: the cli.input.<why> message that says it in the operator's language. */
  constructor(message: string, readonly file: string, readonly why: 'no-such-file' | 'permission-denied' | 'is-directory' | 'cannot-be-read') {
    super('cli-input', message, { ref: { key: `cli.input.${why}`, params: { file } } });
  }
}
