// What both stores share of the import jobs (ImportJobStore): argument checks and the reading of a row, where a running
// job whose lease ended is interrupted (its instance stopped renewing it). SQL stays in the stores.
import type { ImportJobRecord } from './types.js';
import { assertTime, nonEmpty } from './shared.js';

export interface DbImportJob {
  id: string;
  org: string;
  template: string;
  dry_run: number | boolean;
  locale: string;
  state: 'running' | 'done' | 'failed';
  lease_until: number;
  started_at: number;
  finished_at: number | null;
  progress: unknown;
  errors: unknown;
  more_errors: number;
  file_error: unknown;
}

export const IMPORT_JOB_COLUMNS = 'id, org, template, dry_run, locale, state, lease_until, started_at, finished_at, progress, errors, more_errors, file_error';

export function assertJobArgs(id: string, holder: string, now: number): void {
  if (!nonEmpty(id) || !nonEmpty(holder)) throw new TypeError('job id and holder must be non-empty strings');
  assertTime('now', now);
}

export function assertNewJob(job: Pick<ImportJobRecord, 'id' | 'organizationId' | 'template' | 'locale'>, maxRunning: number, leaseMs: number): void {
  if (!nonEmpty(job.organizationId) || !nonEmpty(job.template) || !nonEmpty(job.locale)) throw new TypeError('job organizationId, template and locale must be non-empty strings');
  if (!Number.isInteger(maxRunning) || maxRunning < 1) throw new TypeError('maxRunning must be a positive integer');
  if (!Number.isInteger(leaseMs) || leaseMs < 1) throw new TypeError('leaseMs must be a positive integer');
}

/** `parse`: SQLite keeps JSON as text, PostgreSQL hands JSONB back parsed. */
export function toImportJob(r: DbImportJob, now: number, parse: (v: unknown) => unknown): ImportJobRecord {
  const interrupted = r.state === 'running' && r.lease_until <= now;
  return {
    id: r.id, organizationId: r.org, template: r.template, dryRun: Boolean(r.dry_run), locale: r.locale,
    state: interrupted ? 'interrupted' : r.state,
    startedAt: Number(r.started_at),
    ...(r.finished_at !== null ? { finishedAt: Number(r.finished_at) } : interrupted ? { finishedAt: Number(r.lease_until) } : {}),
    ...(r.progress !== null ? { progress: parse(r.progress) as Record<string, unknown> } : {}),
    errors: parse(r.errors) as unknown[],
    moreErrors: r.more_errors,
    ...(r.file_error !== null ? { fileError: parse(r.file_error) as NonNullable<ImportJobRecord['fileError']> } : {}),
  };
}
