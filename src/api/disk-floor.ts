// Free-space floor for the data folder: below it, ingest answers 507 before anything is parsed into the outbox and
// /ready says why, so a full disk shows as "not ready, disk" instead of failed writes half-way through a batch. The
// statfs answer is cached briefly: ingest and /ready may be hit hard, the free space changes slowly.
import fs from 'node:fs';
import { Router, type RequestHandler } from 'express';
import { messageIssue } from '../i18n/issues.js';
import { sendOutcome } from './errors.js';
import { NotReady, type ReadinessCheck } from './health.js';

/** The part of fs.statfsSync the floor needs (tests inject a fake). */
export type StatFs = (dir: string) => { bavail: number | bigint; bsize: number | bigint };

const MB = 1024 * 1024;

export interface DiskFloorOptions {
  /** The folder holding the database (DATA_DIR or the DATABASE_URL file's folder). */
  dir: string;
  /** Ingest stops below this many free bytes; 0 turns the floor off. */
  floorBytes: number;
  statfs?: StatFs;
  /** Epoch-ms clock for the cache. */
  now?: () => number;
  /** How long one statfs answer is reused (ms). Default 1000. */
  cacheMs?: number;
  /** Retry-After of the 507 answer (s). Default 60. */
  retryAfterS?: number;
}

export interface DiskSpace {
  ok: boolean;
  floorBytes: number;
  /** Undefined when statfs failed (the floor then does not block: the store reports its own write failures). */
  freeBytes?: number;
}

export interface DiskFloor {
  status(): DiskSpace;
  /** GET /ready check `disk`. */
  readiness: ReadinessCheck;
  /** 507 + OperationOutcome below the floor, else next(). */
  guard: RequestHandler;
  /** The guard on POST /ilp/visits, to mount before the ingest router. */
  ingestRouter: Router;
}

const mb = (bytes: number): number => Math.floor(bytes / MB);

export function createDiskFloor(opts: DiskFloorOptions): DiskFloor {
  const statfs: StatFs = opts.statfs ?? ((dir) => fs.statfsSync(dir));
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 1000;
  const floorBytes = Math.max(0, opts.floorBytes);
  let cached: { at: number; space: DiskSpace } | undefined;

  const measure = (): DiskSpace => {
    if (floorBytes === 0) return { ok: true, floorBytes };
    try {
      const s = statfs(opts.dir);
      const freeBytes = Number(s.bavail) * Number(s.bsize);
      return { ok: freeBytes >= floorBytes, floorBytes, freeBytes };
    } catch {
      return { ok: true, floorBytes };
    }
  };
  const status = (): DiskSpace => {
    const t = now();
    if (!cached || t - cached.at >= cacheMs || t < cached.at) cached = { at: t, space: measure() };
    return cached.space;
  };
  // /ready is read by load balancers and monitoring, not operators: its reason stays English like the log.
  const why = (s: DiskSpace) =>
    `free space in the data folder is ${mb(s.freeBytes ?? 0)} MB, below the floor of ${mb(s.floorBytes)} MB (DISK_FREE_FLOOR_MB)`;

  const guard: RequestHandler = (_req, res, next) => {
    const s = status();
    if (s.ok) return next();
    res.set('Retry-After', String(opts.retryAfterS ?? 60));
    sendOutcome(res, 507, [messageIssue('error', 'no-store', 'api.disk-floor', { free: mb(s.freeBytes ?? 0), floor: mb(s.floorBytes) })]);
  };
  const readiness: ReadinessCheck = {
    name: 'disk',
    check: () => {
      const s = status();
      if (!s.ok) throw new NotReady(why(s));
      return true;
    },
  };
  const ingestRouter = Router();
  ingestRouter.post('/ilp/visits', guard);
  return { status, readiness, guard, ingestRouter };
}
