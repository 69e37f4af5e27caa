import { Readable, Writable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import type { ValidatorLike } from '../../src/app/contracts.js';
import type { Mapper } from '../../src/app/dry-run.js';

export const NOW = new Date('2026-11-20T03:00:00Z');

export class Sink extends Writable {
  chunks: string[] = [];
  override _write(chunk: unknown, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(String(chunk));
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

export const input = (text: string): Readable => Readable.from([text]);

export function context(stdinText: string, deps: { validator: ValidatorLike; mapper: Mapper }): CliContext & { out: Sink; err: Sink } {
  const out = new Sink();
  const err = new Sink();
  return {
    stdin: input(stdinText),
    stdout: out,
    stderr: err,
    out,
    err,
    clock: () => NOW,
    validator: () => deps.validator,
    mapper: () => deps.mapper,
    exitCode: 0,
  };
}
