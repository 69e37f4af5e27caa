// The console's upload routes: GET/POST /console/upload (a multipart form into a background import job, src/app/import-jobs.ts)
// and GET /console/imports/:id (the job's page, from the store: any instance answers it). Mounted by router.ts, which
// lends its session, page and CSRF helpers.
import type { Request, Response, Router } from 'express';
import { unlink } from 'node:fs/promises';
import { importFile, type ImportDeps } from '../app/import.js';
import { ImportJobs, type ImportJob } from '../app/import-jobs.js';
import { loadTemplate, templateNames, TemplateError, type ImportTemplate } from '../app/import-template.js';
import type { IngestCheckDeps } from '../app/ingest.js';
import { scopeOf } from '../api/queries.js';
import { errorPage, textOf, type PageContext } from './pages.js';
import type { ConsoleDeps, Signed } from './router.js';
import { csrfMatches } from './sessions.js';
import { DEFAULT_UPLOAD_MAX_BYTES, receiveUpload, UploadSpool } from './upload.js';
import { jobPage, sizeText, uploadPage } from './upload-pages.js';

/** What the upload needs beyond the console's own deps: the ingest checks and the visitId key of `importFile`. */
export interface ConsoleImportDeps extends Omit<IngestCheckDeps, 'organizations' | 'locations'> {
  idKey: Buffer;
  rejectionsRetentionDays?: number;
  /** CONSOLE_UPLOAD_MAX_MB: the size cap of one uploaded file, enforced while it streams in. */
  maxUploadBytes?: number;
  /** Imports running at once over every facility (one per facility in any case). */
  maxRunning?: number;
  /** How long a finished job's page stays (then it is forgotten). */
  jobKeepMs?: number;
  /** How long a running job stays running in the store without this instance renewing it (then it reads as interrupted). */
  jobLeaseMs?: number;
  /** Where the per-process spool folder is made (default: the OS temp folder). */
  spoolRoot?: string;
  /** Seconds between the refreshes of a running job's page. */
  refreshSeconds?: number;
}

export const DEFAULT_REFRESH_SECONDS = 2;

/** The upload's jobs and spool folder (the service waits on the jobs and removes the folder at shutdown). */
export interface UploadParts {
  jobs: ImportJobs;
  spool: UploadSpool;
}

export interface RouteKit {
  page: (render: (req: Request, res: Response, s: Signed) => Promise<void> | void) => (req: Request, res: Response) => Promise<void>;
  context: (req: Request, s?: Signed) => PageContext;
  html: (res: Response, status: number, page: string) => Response;
}

/** Why an upload was refused before its file was stored: the status and the problem shown on the upload page. */
type Refusal = { status: number; key: string; params?: Record<string, string | number> };

/** GET/POST /console/upload and GET /console/imports/:id: the upload into a background import job and its page. */
export function uploadRoutes(router: Router, deps: ConsoleDeps, imp: ConsoleImportDeps, kit: RouteKit): UploadParts {
  const { page, context, html } = kit;
  const now = () => deps.clock().getTime();
  const jobs = new ImportJobs({
    store: deps.store, now, ...(imp.maxRunning ? { maxRunning: imp.maxRunning } : {}), ...(imp.jobKeepMs ? { keepMs: imp.jobKeepMs } : {}),
    ...(imp.jobLeaseMs ? { leaseMs: imp.jobLeaseMs } : {}),
    onUnexpected: (err, job) => deps.logger?.error({ err: { name: (err as Error)?.name }, org: job.organizationId, job: job.id }, 'console import failed'),
  });
  const spool = new UploadSpool(imp.spoolRoot);
  const maxBytes = imp.maxUploadBytes ?? DEFAULT_UPLOAD_MAX_BYTES;
  const refreshSeconds = imp.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  const byOrg = new Map(deps.facilities.map((f) => [f.organizationId, f]));
  // The organizations and location codes come from the console's facilities, as for a push.
  const importDeps: ImportDeps = {
    validator: imp.validator, mapper: imp.mapper, idKey: imp.idKey, store: deps.store, now: deps.clock,
    ...(imp.weighingOf ? { weighingOf: imp.weighingOf } : {}), ...(imp.logger ? { logger: imp.logger } : {}),
    ...(imp.rejectionsRetentionDays ? { rejectionsRetentionDays: imp.rejectionsRetentionDays } : {}),
    organizations: new Set(byOrg.keys()),
    locations: new Map(deps.facilities.map((f) => [f.organizationId, new Set(Object.keys(f.locations))])),
  };
  const form = (ctx: PageContext, problem?: string) => uploadPage(ctx, {
    facilities: deps.facilities.map((f) => ({ organizationId: f.organizationId, ...(typeof f.name === 'string' ? { name: f.name } : {}) })),
    templates: templateNames(), maxBytes, ...(problem ? { problem } : {}),
  });

  router.get('/console/upload', page((req, res, s) => void html(res, 200, form(context(req, s)))));

  router.post('/console/upload', page(async (req, res, s) => {
    const ctx = context(req, s);
    const t = textOf(ctx.locale);
    let job: ImportJob | undefined;
    let template: ImportTemplate | undefined;
    const refuse = (status: number, key: string, params?: Refusal['params']) => ({ accept: false as const, refusal: { status, key, ...(params ? { params } : {}) } });
    const outcome = await receiveUpload<Refusal>(req, {
      spool, maxBytes,
      decide: async (fields) => {
        if (!csrfMatches(s.session, fields.get('_csrf'))) return refuse(403, 'error.csrf');
        const admin = s.principal.role === 'admin';
        const asked = fields.get('organizationId');
        // A facility key imports for its own organization; naming another is refused, not silently redirected.
        if (!admin && asked !== undefined && asked !== s.principal.organizationId) return refuse(403, 'error.admin-only');
        const org = admin ? asked ?? '' : s.principal.organizationId!;
        if (!byOrg.has(org)) return refuse(400, 'upload.no-facility');
        const name = fields.get('template') ?? 'posyandu';
        if (!templateNames().includes(name)) return refuse(400, 'upload.no-template');
        try {
          template = loadTemplate(name);
        } catch (e) {
          if (e instanceof TemplateError) return refuse(400, 'upload.no-template');
          throw e;
        }
        const reserved = await jobs.reserve(org, { template: name, dryRun: fields.has('dryRun'), locale: ctx.locale });
        if (reserved.status === 'facility-busy') return refuse(409, 'upload.facility-busy');
        if (reserved.status === 'busy') return refuse(503, 'upload.busy');
        job = reserved.job;
        return { accept: true };
      },
    });
    if (outcome.status === 'failed') {
      if (job) await jobs.release(job).catch(() => {});
      throw outcome.error;
    }
    if (outcome.status !== 'received' || !job || !template) {
      if (job) await jobs.release(job);
      const [status, problem] = outcome.status === 'refused' ? [outcome.refusal.status, t(outcome.refusal.key, outcome.refusal.params)]
        : outcome.status === 'too-large' ? [413, t('upload.too-large', { max: sizeText(maxBytes) })]
        : outcome.status === 'unsupported-type' ? [415, t('upload.extension')]
        : [400, t('upload.bad-form')];
      deps.logger?.info({ org: s.principal.organizationId ?? 'admin', result: outcome.status, ...(outcome.status === 'bad-form' ? { reason: outcome.reason } : {}) }, 'console upload refused');
      return void html(res, status, form(ctx, problem));
    }
    const started = job;
    const chosen = template;
    const { file, format } = outcome;
    deps.logger?.info({ org: started.organizationId, job: started.id, dryRun: started.dryRun, format }, 'console import started');
    jobs.run(started, (hooks) => importFile(file, format, importDeps, {
      organizationId: started.organizationId, template: chosen, locale: started.locale, dryRun: started.dryRun, ...hooks,
      ...(byOrg.get(started.organizationId)?.timezone ? { timeZone: byOrg.get(started.organizationId)!.timezone } : {}),
    }), async () => {
      await unlink(file).catch(() => {});
      const p = started.progress;
      deps.logger?.info({ org: started.organizationId, job: started.id, state: started.state, read: p?.read, accepted: p?.accepted, rejected: p?.rejected }, 'console import ended');
    });
    res.redirect(303, `/console/imports/${encodeURIComponent(started.id)}`);
  }));

  router.get('/console/imports/:id', page(async (req, res, s) => {
    const job = await jobs.get(String(req.params.id), scopeOf(s.principal));
    const ctx = context(req, s);
    if (!job) return void html(res, 404, errorPage(ctx, textOf(ctx.locale)('error.not-found')));
    html(res, 200, jobPage(job.state === 'running' ? { ...ctx, refreshSeconds } : ctx, job));
  }));
  return { jobs, spool };
}
