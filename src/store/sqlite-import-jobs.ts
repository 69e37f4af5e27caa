// Import jobs on SQLite (ImportJobStore): a reservation is one IMMEDIATE transaction (the file's write lock), so the
// facility's single job and the cap on running jobs hold across processes on one file. The clock is the caller's.
import type Database from 'better-sqlite3';
import type { ImportJobRecord, ImportJobReservation, ImportJobStore, ImportJobUpdate } from './types.js';
import { assertJobArgs, assertNewJob, IMPORT_JOB_COLUMNS, toImportJob, type DbImportJob } from './import-job-rows.js';

export function importJobsOf(db: Database.Database): ImportJobStore {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  const s = {
    facilityRunning: p<{ id: string }>("SELECT id FROM import_jobs WHERE org = ? AND state = 'running' AND lease_until > ? LIMIT 1"),
    running: p<{ n: number }>("SELECT count(*) AS n FROM import_jobs WHERE state = 'running' AND lease_until > ?"),
    insert: p(`INSERT INTO import_jobs (id, org, template, dry_run, locale, state, holder, lease_until, started_at)
               VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)`),
    update: p(`UPDATE import_jobs SET progress = ?, errors = ?, more_errors = ?, lease_until = ?
               WHERE id = ? AND holder = ? AND state = 'running' AND lease_until > ?`),
    finish: p(`UPDATE import_jobs SET state = ?, finished_at = ?, progress = ?, errors = ?, more_errors = ?, file_error = ?
               WHERE id = ? AND holder = ? AND state = 'running'`),
    get: p<DbImportJob>(`SELECT ${IMPORT_JOB_COLUMNS} FROM import_jobs WHERE id = ?`),
    drop: p("DELETE FROM import_jobs WHERE id = ? AND holder = ? AND state = 'running'"),
    forgetOld: p("DELETE FROM import_jobs WHERE (state <> 'running' AND finished_at < ?) OR (state = 'running' AND lease_until < ?)"),
    forgetExcess: p(`DELETE FROM import_jobs WHERE id IN (SELECT id FROM import_jobs WHERE state <> 'running' OR lease_until <= ?
                     ORDER BY coalesce(finished_at, lease_until) DESC LIMIT -1 OFFSET ?)`),
  };
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

  const reserve = db.transaction((job: Pick<ImportJobRecord, 'id' | 'organizationId' | 'template' | 'dryRun' | 'locale'>, holder: string, maxRunning: number, leaseMs: number, now: number): ImportJobReservation => {
    const busy = s.facilityRunning.get(job.organizationId, now);
    if (busy) return { status: 'facility-busy', jobId: busy.id };
    if (s.running.get(now)!.n >= maxRunning) return { status: 'busy' };
    s.insert.run(job.id, job.organizationId, job.template, job.dryRun ? 1 : 0, job.locale, holder, now + leaseMs, now);
    return { status: 'reserved' };
  });
  const forget = db.transaction((before: number, maxKept: number, now: number) =>
    s.forgetOld.run(before, before).changes + s.forgetExcess.run(now, maxKept).changes);

  return {
    async reserveImportJob(job, holder, maxRunning, leaseMs, now) {
      assertJobArgs(job.id, holder, now);
      assertNewJob(job, maxRunning, leaseMs);
      return reserve.immediate(job, holder, maxRunning, leaseMs, now);
    },
    async updateImportJob(id: string, holder: string, u: ImportJobUpdate, leaseMs: number, now: number) {
      assertJobArgs(id, holder, now);
      return s.update.run(json(u.progress), JSON.stringify(u.errors), u.moreErrors, now + leaseMs, id, holder, now).changes === 1;
    },
    async finishImportJob(id, holder, end, now) {
      assertJobArgs(id, holder, now);
      s.finish.run(end.state, now, json(end.progress), JSON.stringify(end.errors), end.moreErrors, json(end.fileError), id, holder);
    },
    async getImportJob(id: string, now: number) {
      const r = s.get.get(id);
      return r ? toImportJob(r, now, (v) => JSON.parse(String(v))) : undefined;
    },
    async dropImportJob(id: string, holder: string) {
      s.drop.run(id, holder);
    },
    async forgetImportJobs(before: number, maxKept: number, now: number) {
      return forget.immediate(before, maxKept, now);
    },
  };
}
