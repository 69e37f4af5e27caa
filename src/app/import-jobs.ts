// Background imports (the console's upload): a job per uploaded file, owned by its facility, running `importFile` in
// the instance that received the file while the operator's page polls it. The job's record (state, progress, capped
// row errors, the file's reason) is the store's, so any instance behind a load balancer answers the poll and a restart
// keeps it; the running instance renews the job's lease as it goes, and a job whose instance died (lease ended) reads
// as interrupted. Bounded on every side, across instances: one job at a time per facility, a small cap on jobs
// running at once, a bounded list of row errors per job, and ended jobs forgotten after `keepMs` (or beyond `maxKept`).
import { randomBytes } from 'node:crypto';
import type { Locale } from '../i18n/index.js';
import type { ImportJobRecord, ImportJobStore, ImportJobUpdate } from '../store/types.js';
import type { ImportSummary, RowError } from './import.js';
import { ImportFileError } from './import-errors.js';
import type { Scope } from './visits.js';

export const DEFAULT_MAX_RUNNING_IMPORTS = 2;
export const DEFAULT_IMPORT_JOB_KEEP_MS = 60 * 60_000;
export const MAX_KEPT_JOBS = 200;
/** Row errors kept for the job page; the rest are counted (the rejections list keeps them all). */
export const MAX_JOB_ERRORS = 200;
/** How long a running job stays running without its instance renewing it (then it reads as interrupted). */
export const DEFAULT_IMPORT_JOB_LEASE_MS = 60_000;

export type ImportJobState = 'running' | 'done' | 'failed' | 'interrupted';

export interface ImportJob {
  id: string;
  organizationId: string;
  template: string;
  dryRun: boolean;
  /** The language the row errors were written in (the uploader's). */
  locale: Locale;
  state: ImportJobState;
  startedAt: number;
  /** The end; for an interrupted job, when its lease ended. */
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
  store: ImportJobStore;
  now: () => number;
  maxRunning?: number;
  keepMs?: number;
  maxKept?: number;
  leaseMs?: number;
  /** This instance's name in the job records (default: random per process). */
  holder?: string;
  /** Told when a job fails unexpectedly, or its record cannot be written (never with file content). */
  onUnexpected?: (err: unknown, job: ImportJob) => void;
}

export const canSee = (scope: Scope, job: Pick<ImportJob, 'organizationId'>): boolean => 'all' in scope || scope.organizationId === job.organizationId;

/** A job this instance runs: its record as it goes, and the store writes in flight (one at a time, coalesced). */
interface LiveJob {
  job: ImportJob;
  writing?: Promise<void>;
  dirty: boolean;
  heartbeat?: NodeJS.Timeout;
}

/** The job as the page shows it, from the store's record. */
function fromRecord(r: ImportJobRecord): ImportJob {
  return {
    id: r.id, organizationId: r.organizationId, template: r.template, dryRun: r.dryRun, locale: r.locale === 'en' ? 'en' : 'id',
    state: r.state, startedAt: r.startedAt, ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt } : {}),
    ...(r.progress ? { progress: r.progress as unknown as ImportSummary } : {}),
    errors: r.errors as RowError[], moreErrors: r.moreErrors,
    ...(r.fileError ? { fileError: new ImportFileError(r.fileError.why, r.fileError.params) } : {}),
  };
}

const updateOf = (job: ImportJob): ImportJobUpdate => ({
  ...(job.progress ? { progress: { ...job.progress } as Record<string, unknown> } : {}), errors: job.errors, moreErrors: job.moreErrors,
});

export class ImportJobs {
  /** Jobs reserved or running in this instance. */
  private readonly live = new Map<string, LiveJob>();
  private readonly finished = new Map<string, Promise<void>>();
  private readonly maxRunning: number;
  private readonly keepMs: number;
  private readonly maxKept: number;
  private readonly leaseMs: number;
  readonly holder: string;

  constructor(private readonly opts: ImportJobsOptions) {
    this.maxRunning = opts.maxRunning ?? DEFAULT_MAX_RUNNING_IMPORTS;
    this.keepMs = opts.keepMs ?? DEFAULT_IMPORT_JOB_KEEP_MS;
    this.maxKept = opts.maxKept ?? MAX_KEPT_JOBS;
    this.leaseMs = opts.leaseMs ?? DEFAULT_IMPORT_JOB_LEASE_MS;
    this.holder = opts.holder ?? `import-${randomBytes(8).toString('hex')}`;
  }

  /**
   * A place for a new job of this facility, taken before its file is received (so a refused upload stores nothing);
   * give it back with `release` if the upload does not get as far as `run`.
   */
  async reserve(organizationId: string, info: Pick<ImportJob, 'template' | 'dryRun' | 'locale'>): Promise<Reservation> {
    const now = this.opts.now();
    await this.opts.store.forgetImportJobs(now - this.keepMs, this.maxKept, now);
    const job: ImportJob = { id: randomBytes(16).toString('base64url'), organizationId, ...info, state: 'running', startedAt: now, errors: [], moreErrors: 0 };
    const r = await this.opts.store.reserveImportJob(job, this.holder, this.maxRunning, this.leaseMs, now);
    if (r.status !== 'reserved') return r;
    this.live.set(job.id, { job, dirty: false });
    return { status: 'reserved', job };
  }

  /** Forgets a reserved job whose upload was refused (too large, bad form…). */
  async release(job: ImportJob): Promise<void> {
    if (this.finished.has(job.id)) return;
    this.live.delete(job.id);
    await this.opts.store.dropImportJob(job.id, this.holder);
  }

  /** Runs the import of a reserved job in the background; `cleanup` runs after it, whatever happened. */
  run(job: ImportJob, importer: (hooks: JobHooks) => Promise<ImportSummary>, cleanup: () => Promise<void> | void = () => {}): void {
    const live = this.live.get(job.id) ?? { job, dirty: false };
    this.live.set(job.id, live);
    const hooks: JobHooks = {
      onRowError: (e) => {
        if (job.errors.length < MAX_JOB_ERRORS) job.errors.push(e);
        else job.moreErrors++;
      },
      onProgress: (s) => {
        job.progress = { ...s };
        void this.persist(live);
      },
    };
    // Renewed between batches too: a slow batch must not make the job look abandoned.
    live.heartbeat = setInterval(() => void this.persist(live), Math.max(1_000, Math.floor(this.leaseMs / 3)));
    live.heartbeat.unref();
    const done = (async () => {
      let state: 'done' | 'failed' = 'failed';
      try {
        job.progress = { ...(await importer(hooks)) };
        state = 'done';
      } catch (err) {
        if (err instanceof ImportFileError) job.fileError = err;
        else this.opts.onUnexpected?.(err, job);
      } finally {
        clearInterval(live.heartbeat);
        await live.writing;
        job.state = state;
        job.finishedAt = this.opts.now();
        try {
          await this.opts.store.finishImportJob(job.id, this.holder, {
            ...updateOf(job), state, ...(job.fileError ? { fileError: { why: job.fileError.why, params: { ...job.fileError.params } } } : {}),
          }, job.finishedAt);
        } catch (err) {
          this.opts.onUnexpected?.(err, job);
        }
        this.live.delete(job.id);
        try {
          await cleanup();
        } catch (err) {
          this.opts.onUnexpected?.(err, job);
        }
      }
    })();
    this.finished.set(job.id, done);
    void done.finally(() => this.finished.delete(job.id));
  }

  /** The job if this scope may see it (another facility's job is as absent as an unknown one), from the store. */
  async get(id: string, scope: Scope): Promise<ImportJob | undefined> {
    const r = await this.opts.store.getImportJob(id, this.opts.now());
    return r && canSee(scope, r) ? fromRecord(r) : undefined;
  }

  /** Resolves when the job's import, its record's end and cleanup are over (tests and shutdown wait on it, not on time). */
  settled(id: string): Promise<void> {
    return this.finished.get(id) ?? Promise.resolve();
  }

  /** Every job's end (shutdown). */
  async drain(): Promise<void> {
    await Promise.all(this.finished.values());
  }

  /** Jobs reserved or running in this instance. */
  get size(): number {
    return this.live.size;
  }

  /** Writes the job's progress and renews its lease; a write asked for while one is in flight follows it (once). */
  private persist(live: LiveJob): Promise<void> {
    if (live.writing) {
      live.dirty = true;
      return live.writing;
    }
    live.writing = (async () => {
      do {
        live.dirty = false;
        try {
          await this.opts.store.updateImportJob(live.job.id, this.holder, updateOf(live.job), this.leaseMs, this.opts.now());
        } catch (err) {
          this.opts.onUnexpected?.(err, live.job);
        }
      } while (live.dirty);
      live.writing = undefined;
    })();
    return live.writing;
  }
}
