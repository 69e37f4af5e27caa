// Background imports (the console's upload): a job per uploaded file, owned by its facility, running `importFile` while
// the operator's page polls it. Bounded on every side: one job at a time per facility, a small cap on jobs running at
// once, a bounded list of row errors per job, and finished jobs forgotten after `keepMs` (or sooner beyond `maxKept`).
// In memory: a restart forgets the jobs (the rows an import committed stay committed; a re-upload finds them unchanged).
import { randomBytes } from 'node:crypto';
import type { Locale } from '../i18n/index.js';
import type { ImportSummary, RowError } from './import.js';
import { ImportFileError } from './import-errors.js';
import type { Scope } from './visits.js';

export const DEFAULT_MAX_RUNNING_IMPORTS = 2;
export const DEFAULT_IMPORT_JOB_KEEP_MS = 60 * 60_000;
export const MAX_KEPT_JOBS = 200;
/** Row errors kept for the job page; the rest are counted (the rejections list keeps them all). */
export const MAX_JOB_ERRORS = 200;

export type ImportJobState = 'running' | 'done' | 'failed';

export interface ImportJob {
  id: string;
  organizationId: string;
  template: string;
  dryRun: boolean;
  /** The language the row errors were written in (the uploader's). */
  locale: Locale;
  state: ImportJobState;
  startedAt: number;
  finishedAt?: number;
  /** The running summary (after each batch), then the final one. */
  progress?: Readonly<ImportSummary>;
  errors: RowError[];
  /** Row errors beyond MAX_JOB_ERRORS, counted only. */
  moreErrors: number;
  /** Why the file could not be used (a messages/import.json key); absent with an unexpected failure. */
  fileError?: ImportFileError;
}

export type Reservation =
  | { status: 'reserved'; job: ImportJob }
  | { status: 'facility-busy'; jobId: string }
  | { status: 'busy' };

/** What a job's runner gets: where to put row errors and progress. */
export interface JobHooks {
  onRowError: (e: RowError) => void;
  onProgress: (s: Readonly<ImportSummary>) => void;
}

export interface ImportJobsOptions {
  now: () => number;
  maxRunning?: number;
  keepMs?: number;
  maxKept?: number;
  /** Told when a job fails unexpectedly (never with file content). */
  onUnexpected?: (err: unknown, job: ImportJob) => void;
}

export const canSee = (scope: Scope, job: ImportJob): boolean => 'all' in scope || scope.organizationId === job.organizationId;

export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();
  private readonly finished = new Map<string, Promise<void>>();
  private readonly maxRunning: number;
  private readonly keepMs: number;
  private readonly maxKept: number;

  constructor(private readonly opts: ImportJobsOptions) {
    this.maxRunning = opts.maxRunning ?? DEFAULT_MAX_RUNNING_IMPORTS;
    this.keepMs = opts.keepMs ?? DEFAULT_IMPORT_JOB_KEEP_MS;
    this.maxKept = opts.maxKept ?? MAX_KEPT_JOBS;
  }

  /**
   * A place for a new job of this facility, taken before its file is received (so a refused upload stores nothing);
   * give it back with `release` if the upload does not get as far as `run`.
   */
  reserve(organizationId: string, info: Pick<ImportJob, 'template' | 'dryRun' | 'locale'>): Reservation {
    this.sweep();
    let running = 0;
    for (const job of this.jobs.values()) {
      if (job.state !== 'running') continue;
      if (job.organizationId === organizationId) return { status: 'facility-busy', jobId: job.id };
      running++;
    }
    if (running >= this.maxRunning) return { status: 'busy' };
    const job: ImportJob = { id: randomBytes(16).toString('base64url'), organizationId, ...info, state: 'running', startedAt: this.opts.now(), errors: [], moreErrors: 0 };
    this.jobs.set(job.id, job);
    return { status: 'reserved', job };
  }

  /** Forgets a reserved job whose upload was refused (too large, bad form…). */
  release(job: ImportJob): void {
    if (!this.finished.has(job.id)) this.jobs.delete(job.id);
  }

  /** Runs the import of a reserved job in the background; `cleanup` runs after it, whatever happened. */
  run(job: ImportJob, importer: (hooks: JobHooks) => Promise<ImportSummary>, cleanup: () => Promise<void> | void = () => {}): void {
    const hooks: JobHooks = {
      onRowError: (e) => {
        if (job.errors.length < MAX_JOB_ERRORS) job.errors.push(e);
        else job.moreErrors++;
      },
      onProgress: (s) => void (job.progress = { ...s }),
    };
    const done = (async () => {
      try {
        job.progress = { ...(await importer(hooks)) };
        job.state = 'done';
      } catch (err) {
        job.state = 'failed';
        if (err instanceof ImportFileError) job.fileError = err;
        else this.opts.onUnexpected?.(err, job);
      } finally {
        job.finishedAt = this.opts.now();
        try {
          await cleanup();
        } catch (err) {
          this.opts.onUnexpected?.(err, job);
        }
      }
    })();
    this.finished.set(job.id, done);
  }

  /** The job if this scope may see it (another facility's job is as absent as an unknown one). */
  get(id: string, scope: Scope): ImportJob | undefined {
    this.sweep();
    const job = this.jobs.get(id);
    return job && canSee(scope, job) ? job : undefined;
  }

  /** Resolves when the job's import and cleanup are over (tests and shutdown wait on it instead of polling). */
  settled(id: string): Promise<void> {
    return this.finished.get(id) ?? Promise.resolve();
  }

  /** Every job's end (shutdown). */
  async drain(): Promise<void> {
    await Promise.all(this.finished.values());
  }

  get size(): number {
    return this.jobs.size;
  }

  private sweep(): void {
    const now = this.opts.now();
    const done = [...this.jobs.values()].filter((j) => j.state !== 'running');
    const excess = this.jobs.size - this.maxKept;
    done.forEach((j, i) => {
      if (i < excess || now - (j.finishedAt ?? now) > this.keepMs) {
        this.jobs.delete(j.id);
        this.finished.delete(j.id);
      }
    });
  }
}
