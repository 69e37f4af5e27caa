#!/usr/bin/env node
// `ilp-adapter` entry: real streams, real clock, the validator and mapping tables from the composition root on first use.
import { mappingKit } from '../compose.js';
import type { CliContext } from './context.js';
import { runCli } from './program.js';

const ctx: CliContext = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  clock: () => new Date(),
  // Built on first use, by the composition root: `--help` or the simulator command never pay for compiling the validator.
  validator: () => mappingKit().validator,
  mapper: () => mappingKit().mapper,
  exitCode: 0,
};

// `ilp-adapter map big.ndjson | head`: a closed pipe is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

runCli(process.argv.slice(2), ctx).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ilp-adapter: unexpected error: ${err instanceof Error ? err.name : 'unknown'}\n`);
    process.exitCode = 70;
  },
);
