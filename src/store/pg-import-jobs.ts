// Import jobs on PostgreSQL (ImportJobStore): a reservation runs under a transaction-scoped advisory lock, so the
// facility's single job and the cap on running jobs hold across instances. Times are the store's clock.
import type pg from 'pg';
import type { ImportJobRecord, ImportJobReservation, ImportJobUpdate } from './types.js';
import { IMPORT_JOB_COLUMNS, toImportJob, type DbImportJob } from './import-job-rows.js';

/** Key of the advisory lock reservations take ("ilp-imp" in ASCII; apart from the migrations' key). */
const RESERVE_LOCK = 0x696c702d696d70n;

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function reserveJob(c: Queryable, job: Pick<ImportJobRecord, 'id' | 'organizationId' | 'template' | 'dryRun' | 'locale'>, holder: string,
  maxRunning: number, leaseMs: number, now: number): Promise<ImportJobReservation> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [RESERVE_LOCK.toString()]);
  const busy = (await c.query<{ id: string }>("SELECT id FROM import_jobs WHERE org = $1 AND state = 'running' AND lease_until > $2 LIMIT 1", [job.organizationId, now])).rows[0];
  if (busy) return { status: 'facility-busy', jobId: busy.id };
  const running = Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM import_jobs WHERE state = 'running' AND lease_until > $1", [now])).rows[0]!.n);
  if (running >= maxRunning) return { status: 'busy' };
  await c.query(`INSERT INTO import_jobs (id, org, template, dry_run, locale, state, holder, lease_until, started_at)
    VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8)`, [job.id, job.organizationId, job.template, job.dryRun, job.locale, holder, now + leaseMs, now]);
  return { status: 'reserved' };
}

export async function updateJob(c: Queryable, id: string, holder: string, u: ImportJobUpdate, leaseMs: number, now: number): Promise<boolean> {
  const r = await c.query(`UPDATE import_jobs SET progress = $1, errors = $2, more_errors = $3, lease_until = $4
    WHERE id = $5 AND holder = $6 AND state = 'running' AND lease_until > $7`,
  [u.progress === undefined ? null : JSON.stringify(u.progress), JSON.stringify(u.errors), u.moreErrors, now + leaseMs, id, holder, now]);
  return r.rowCount === 1;
}

export async function finishJob(c: Queryable, id: string, holder: string, end: ImportJobUpdate & { state: 'done' | 'failed'; fileError?: ImportJobRecord['fileError'] }, now: number): Promise<void> {
  await c.query(`UPDATE import_jobs SET state = $1, finished_at = $2, progress = $3, errors = $4, more_errors = $5, file_error = $6
    WHERE id = $7 AND holder = $8 AND state = 'running'`,
  [end.state, now, end.progress === undefined ? null : JSON.stringify(end.progress), JSON.stringify(end.errors), end.moreErrors,
    end.fileError === undefined ? null : JSON.stringify(end.fileError), id, holder]);
}

export async function getJob(c: Queryable, id: string, now: number): Promise<ImportJobRecord | undefined> {
  const r = (await c.query<DbImportJob>(`SELECT ${IMPORT_JOB_COLUMNS} FROM import_jobs WHERE id = $1`, [id])).rows[0];
  return r ? toImportJob(r, now, (v) => v) : undefined;
}

export async function dropJob(c: Queryable, id: string, holder: string): Promise<void> {
  await c.query("DELETE FROM import_jobs WHERE id = $1 AND holder = $2 AND state = 'running'", [id, holder]);
}

export async function forgetJobs(c: Queryable, before: number, maxKept: number, now: number): Promise<number> {
  const old = await c.query("DELETE FROM import_jobs WHERE (state <> 'running' AND finished_at < $1) OR (state = 'running' AND lease_until < $1)", [before]);
  const excess = await c.query(`DELETE FROM import_jobs WHERE id IN (SELECT id FROM import_jobs WHERE state <> 'running' OR lease_until <= $1
    ORDER BY coalesce(finished_at, lease_until) DESC OFFSET $2)`, [now, maxKept]);
  return (old.rowCount ?? 0) + (excess.rowCount ?? 0);
}
