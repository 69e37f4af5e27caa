// Large $validate payloads are validated on worker threads (piscina), so that one big Bundle — or four clients
// sending them — cannot hold the event loop that answers /health and a facility's ingest. The queue is bounded:
// when every worker is busy and the queue is full the caller gets PoolBusyError (503 + Retry-After). Small
// payloads stay inline: a worker round-trip (structured clone both ways) costs more than validating them.
import { AppError } from '../util/app-error.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ValidateOptions } from '../validation/index.js';
import type { Issue } from '../validation/outcome.js';
import { packageRoot } from '../util/paths.js';
import type { ValidationTask } from './validation-worker.js';

export interface ValidationPoolOptions {
  /** Worker threads (≥ 1). */
  workers: number;
  /** Payloads that may wait for a free worker. */
  queue: number;
  /** Bodies of at least this many bytes go to a worker. */
  minBytes: number;
  /** Worker entry (a .js/.mjs file); default: the compiled validation-worker.js. */
  filename?: string;
  /** Passed to each worker (tests give a gate). */
  workerData?: unknown;
  /** A worker that fails outside a task (its task, if any, is rejected and answered 500 with an incident id). */
  onError?: (err: unknown) => void;
}

export interface ValidationPool {
  readonly minBytes: number;
  /** Validates on a worker; rejects with PoolBusyError at once when workers and queue are full. */
  validate(resource: unknown, opts: ValidateOptions): Promise<Issue[]>;
  /** Tasks running or waiting. */
  pending(): number;
  /** Tasks a worker answered since the start. */
  completed(): number;
  /** Waits for running tasks, then stops the threads. Idempotent. */
  close(): Promise<void>;
}

export class PoolBusyError extends AppError {
  constructor() {
    super('busy', 'validation workers busy', { status: 503 });
  }
}

/**
 * The compiled worker: beside this file under dist/, or, when this module runs from src/ (ts-jest), the copy in
 * dist/ that `npm ci` (prepare → build) produced.
 */
export function defaultWorkerFile(): string {
  const here = fileURLToPath(new URL('./validation-worker.js', import.meta.url));
  return existsSync(here) ? here : path.join(packageRoot, 'dist', 'api', 'validation-worker.js');
}

/**
 * Piscina loads a worker with `require()` first. On Node 20.19+ that require()s our ESM worker (require(esm)), and inside
 * that path Node aborted the whole process twice in full test runs (`v8::Module::IsGraphAsync … instantiated module`,
 * stack in piscina's require). Without require(esm) piscina falls back to `import()`, the ESM loader.
 */
const WORKER_EXEC_ARGV = process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
  ? [...process.execArgv, '--no-experimental-require-module']
  : [...process.execArgv];

export function createValidationPool(o: ValidationPoolOptions): ValidationPool {
  const workers = Math.max(1, o.workers);
  const filename = o.filename ?? defaultWorkerFile();
  // Checked here: a missing entry would otherwise surface as an 'error' event from a thread, after the start.
  if (!existsSync(filename)) {
    throw new Error(`The validation worker ${filename} is missing: run \`npm run build\` (or set VALIDATE_WORKERS=0 to validate inline)`);
  }
  const pool = new Piscina<ValidationTask, Issue[]>({
    filename,
    execArgv: WORKER_EXEC_ARGV,
    minThreads: workers,
    maxThreads: workers,
    maxQueue: Math.max(1, o.queue),
    idleTimeout: Number.POSITIVE_INFINITY,
    ...(o.workerData !== undefined ? { workerData: o.workerData } : {}),
  });
  // Without a listener an 'error' event would end the process.
  pool.on('error', (err: unknown) => o.onError?.(err));
  let pending = 0;
  let completed = 0;
  let closing: Promise<void> | undefined;
  return {
    minBytes: o.minBytes,
    pending: () => pending,
    completed: () => completed,
    async validate(resource, opts) {
      // Counted here rather than read from piscina, so the bound holds even before a task reaches a thread.
      if (closing || pending >= workers + o.queue) throw new PoolBusyError();
      pending++;
      try {
        const issues = await pool.run({
          resource,
          now: opts.now.toISOString(),
          ...(opts.baseOnly ? { baseOnly: true } : {}),
          ...(opts.expectedType ? { expectedType: opts.expectedType } : {}),
        });
        completed++;
        return issues;
      } finally {
        pending--;
      }
    },
    close: () => (closing ??= pool.close()),
  };
}
