#!/usr/bin/env node
// `ilp-adapter` entry: real streams, real clock, the validator and mapping tables built on first use.
import { createValidator } from '../validation/index.js';
import { loadMappingTables, mapVisit } from '../mapping/index.js';
import type { ValidatorLike } from '../api/contracts.js';
import type { Mapper } from '../api/dry-run.js';
import type { CliContext } from './context.js';
import { runCli } from './program.js';

let validator: ValidatorLike | undefined;
let mapper: Mapper | undefined;

const ctx: CliContext = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  clock: () => new Date(),
  validator: () => (validator ??= createValidator()),
  mapper: () => {
    if (!mapper) {
      const tables = loadMappingTables();
      mapper = (record, now) => mapVisit(record, tables, { now });
    }
    return mapper;
  },
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
