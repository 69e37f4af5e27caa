// A CliContext for running service commands (sync, keys) in-process, capturing what they print.
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';

export function cliContext(): CliContext & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  return {
    stdin: new PassThrough(), stdout, stderr, clock: () => new Date(), exitCode: 0,
    validator: () => { throw new Error('unused'); }, mapper: () => { throw new Error('unused'); },
    out: () => o, err: () => e,
  };
}
