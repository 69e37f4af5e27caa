import { Readable, Writable } from 'node:stream';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliInputError, openInput, readItems, writeLine, type InputItem } from '../../src/cli/ndjson.js';

async function collect(text: string, opts = {}): Promise<InputItem[]> {
  const out: InputItem[] = [];
  for await (const item of readItems(Readable.from([text]), opts)) out.push(item);
  return out;
}

describe('readItems: input shape detection', () => {
  it('reads a pretty-printed document as one item', async () => {
    const items = await collect('\n\n' + JSON.stringify({ resourceType: 'Patient', id: 'p1' }, null, 2) + '\n');
    expect(items).toEqual([{ ok: true, mode: 'single', line: 3, label: 'line 3', value: { resourceType: 'Patient', id: 'p1' } }]);
  });

  it('reads a single compact line as a single document', async () => {
    const items = await collect('{"a":1}');
    expect(items.map((i) => [i.mode, i.line])).toEqual([['single', 1]]);
  });

  it('reads NDJSON line by line, skipping blank lines but counting them', async () => {
    const items = await collect('{"n":1}\n\n{"n":2}\r\n   \n{"n":3}\n');
    expect(items.map((i) => [i.ok, i.mode, i.line, i.ok ? (i.value as { n: number }).n : null])).toEqual([
      [true, 'ndjson', 1, 1],
      [true, 'ndjson', 3, 2],
      [true, 'ndjson', 5, 3],
    ]);
  });

  it('reports a non-JSON line with its number and keeps going, without echoing its content', async () => {
    const items = await collect('{"n":1}\nnot json at all 3171012501900001\n{"n":3}\n');
    expect(items.map((i) => i.ok)).toEqual([true, false, true]);
    const bad = items[1] as Extract<InputItem, { ok: false }>;
    expect(bad.line).toBe(2);
    expect(bad.reason).toMatch(/^not valid JSON/);
    expect(bad.reason).not.toContain('3171012501900001');
  });

  it('falls back to NDJSON when the first line starts a document that never parses', async () => {
    const items = await collect('{"broken": \n{"n":2}\n');
    expect(items.map((i) => [i.ok, i.line, i.mode])).toEqual([
      [false, 1, 'ndjson'],
      [true, 2, 'ndjson'],
    ]);
  });

  it('gives up buffering past maxDocumentBytes and reads the rest as NDJSON', async () => {
    const lines = ['{"x":', ...Array.from({ length: 50 }, (_, i) => `{"n":${i}}`)];
    const items = await collect(lines.join('\n'), { maxDocumentBytes: 100 });
    expect(items).toHaveLength(51);
    expect(items[0]?.ok).toBe(false);
    expect(items.slice(1).every((i) => i.ok && i.mode === 'ndjson')).toBe(true);
    expect(items[50]?.line).toBe(51);
  });

  it('reads a top-level JSON array as one item per element', async () => {
    const items = await collect('[\n{"n":1},\n{"n":2}\n]\n');
    expect(items.map((i) => [i.mode, i.label])).toEqual([
      ['array', 'item 1'],
      ['array', 'item 2'],
    ]);
  });

  it('strips a UTF-8 byte order mark', async () => {
    const items = await collect('\uFEFF{"a":1}\n');
    expect(items[0]).toMatchObject({ ok: true, value: { a: 1 } });
  });

  it('treats a first line that is not JSON and does not start a document as NDJSON', async () => {
    const items = await collect('hello\n{"a":1}\n');
    expect(items.map((i) => [i.ok, i.mode])).toEqual([
      [false, 'ndjson'],
      [true, 'ndjson'],
    ]);
  });

  it('yields nothing for empty or blank input', async () => {
    expect(await collect('')).toEqual([]);
    expect(await collect('\n  \n\n')).toEqual([]);
  });

  it('streams: the first item arrives before the input has ended', async () => {
    const input = new Readable({ read() {} });
    input.push('{"n":1}\n{"n":2}\n');
    const it = readItems(input)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ ok: true, line: 1, mode: 'ndjson' });
    input.push('{"n":3}\n');
    input.push(null);
    const rest: InputItem[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(rest.map((i) => i.line)).toEqual([2, 3]);
  });
});

describe('openInput and writeLine', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ilp-cli-'));

  it('explains a missing file and a directory', async () => {
    await expect(openInput(path.join(dir, 'nope.json'), Readable.from([]))).rejects.toThrow(new CliInputError(`${path.join(dir, 'nope.json')}: no such file`, path.join(dir, 'nope.json'), 'no-such-file'));
    mkdirSync(path.join(dir, 'sub'));
    await expect(openInput(path.join(dir, 'sub'), Readable.from([]))).rejects.toThrow(/is a directory/);
  });

  it("reads a file, and '-' means stdin", async () => {
    writeFileSync(path.join(dir, 'a.ndjson'), '{"n":1}\n{"n":2}\n');
    const items: InputItem[] = [];
    for await (const i of readItems(await openInput(path.join(dir, 'a.ndjson'), Readable.from([])))) items.push(i);
    expect(items).toHaveLength(2);
    const stdin = Readable.from(['{"s":1}']);
    expect(await openInput('-', stdin)).toBe(stdin);
  });

  it('waits for drain when the output is full', async () => {
    const written: string[] = [];
    const slow = new Writable({
      highWaterMark: 4,
      write(chunk, _e, cb) {
        written.push(String(chunk));
        setTimeout(cb, 1);
      },
    });
    for (let i = 0; i < 20; i++) await writeLine(slow, `line-${i}-padding`);
    await new Promise((r) => slow.end(r));
    expect(written).toHaveLength(20);
    expect(written[19]).toBe('line-19-padding\n');
  });
});
