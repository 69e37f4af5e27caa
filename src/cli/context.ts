// What every CLI command gets: its streams, a clock, and lazily built heavy dependencies (so `--help` or the
// simulator command never pay for compiling the validator). Tests pass their own streams.
import type { Readable, Writable } from 'node:stream';
import type { ValidatorLike } from '../app/contracts.js';
import type { Mapper } from '../app/dry-run.js';

export interface CliContext {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  clock: () => Date;
  validator: () => ValidatorLike;
  mapper: () => Mapper;
  /** Set by the command that ran; `runCli` returns it. */
  exitCode: number;
}

/** Exit codes shared by the commands. */
export const EXIT = { OK: 0, INVALID: 1, UNUSABLE: 2 } as const;

/** `--now` parses to a Date, or throws a message fit for the user. */
export function parseNow(value: string | undefined, clock: () => Date): Date {
  if (value === undefined) return clock();
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(d.getTime())) {
    throw new Error(`--now must be an ISO 8601 date-time such as 2025-03-01T10:00:00+07:00`);
  }
  return d;
}
