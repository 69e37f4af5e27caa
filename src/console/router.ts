// The operator console, /console: server-rendered pages over the use cases in src/app/ (never over the HTTP API).
// Sign-in with an API key in a POST body → a session in the store, seen by every instance (HttpOnly, SameSite=Strict cookie; Secure over https);
// every state-changing form carries the session's CSRF token; wrong keys count against the API's auth throttle.
// Mounted before the app's JSON-only guards (it speaks HTML and reads urlencoded forms); strict CSP, no script at all.
import express, { Router, type Request, type Response } from 'express';
import { hashApiKey, keyHashResolver, type AuthDeps, type Principal } from '../api/auth.js';
import { clientAddress } from '../api/open-limits.js';
import { scopeOf } from '../api/queries.js';
import { describeFacility } from '../config/facilities.js';
import { facilityOverviews, setFacilityStatus, type FacilityOverviewDeps } from '../app/facilities.js';
import { listRejections, DAY_MS } from '../app/rejections.js';
import { listVisits, requeueVisit, showVisit, type QueryDeps } from '../app/visits.js';
import { QueryParameterError, type RawParams } from '../app/params.js';
import { LOCALES, negotiateLocale, type Locale } from '../i18n/index.js';
import type { FacilityConfig } from '../platform/types.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../util/logger.js';
import { ownEntry } from '../util/own.js';
import { attentionPage, CONSOLE_CSS, errorPage, loginPage, overviewPage, rejectionsPage, textOf, type FieldIssue, type PageContext } from './pages.js';
import { csrfMatches, DEFAULT_IDLE_MS, SessionStore, type Session } from './sessions.js';
import { uploadRoutes, type ConsoleImportDeps, type UploadParts } from './upload-routes.js';

export type { ConsoleImportDeps } from './upload-routes.js';

export const SESSION_COOKIE = 'ilp_console';
export const LANG_COOKIE = 'lang';
export const ATTENTION_STATES = 'needs-correction,blocked,dead-letter';
export const PAGE_SIZE = 20;
export const DEFAULT_REJECTION_DAYS = 7;

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface ConsoleDeps extends AuthDeps {
  store: Store;
  clock: () => Date;
  facilities: readonly FacilityConfig[];
  /** Probes a facility's token after a resume (as POST /sync/facilities/{org}/resume does). */
  probe?: (organizationId: string) => Promise<unknown>;
  logger?: Logger;
  /** Idle expiry of a session (default 30 min). */
  idleMs?: number;
  /** How many days back the rejections page looks (default 7). */
  rejectionDays?: number;
  /** The spreadsheet upload (/console/upload); absent ⇒ the console has none. */
  imports?: ConsoleImportDeps;
}

export type Signed = { id: string; session: Session; principal: Principal };

export interface ConsoleRouter {
  router: Router;
  sessions: SessionStore;
  /** The upload's jobs and spool folder, when the console has the upload. */
  imports?: UploadParts;
}

function cookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const isLocale = (x: string | undefined): x is Locale => (LOCALES as readonly (string | undefined)[]).includes(x);

function localeOf(req: Request): Locale {
  const chosen = cookies(req).get(LANG_COOKIE);
  return isLocale(chosen) ? chosen : negotiateLocale(req.get('accept-language'));
}

/**
 * Over https — directly, or through a proxy that says so in X-Forwarded-Proto (believed without `trust proxy`: a false
 * claim can only make the cookie stricter) — the cookie is Secure.
 */
const overHttps = (req: Request): boolean => req.secure || req.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';

function setCookie(req: Request, res: Response, name: string, value: string, extra = ''): void {
  res.append('Set-Cookie', `${name}=${value}; Path=/console; HttpOnly; SameSite=Strict${overHttps(req) ? '; Secure' : ''}${extra}`);
}

const originHost = (origin: string): string | undefined => {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // `null` and other opaque origins
  }
};

/** Only console paths are a place to come back to (no open redirect). */
const backTo = (x: unknown): string => (typeof x === 'string' && /^\/console(\/[a-z-]*|\/imports\/[A-Za-z0-9_-]{1,64})?$/.test(x) ? x : '/console');

/** The issues of a visit's lastError as field + problem (the diagnostics name the source field already). */
function issuesOf(view: Record<string, unknown> | undefined): FieldIssue[] {
  const outcome = view?.lastError as { issue?: { expression?: string[]; diagnostics?: string; code?: string }[] } | undefined;
  return (outcome?.issue ?? []).map((i) => ({ ...(i.expression?.length ? { field: i.expression.join(', ') } : {}), problem: i.diagnostics ?? i.code ?? '' }));
}

export function consoleRouter(deps: ConsoleDeps): ConsoleRouter {
  const now = () => deps.clock().getTime();
  const sessions = new SessionStore(deps.store, now, deps.idleMs ?? DEFAULT_IDLE_MS);
  const resolve = keyHashResolver(deps);
  const queryDeps: QueryDeps = { store: deps.store, now };
  const overviewDeps: FacilityOverviewDeps = {
    ...queryDeps,
    configured: new Map(deps.facilities.map((f) => [f.organizationId, describeFacility(f)])),
  };
  const rejectionDays = deps.rejectionDays ?? DEFAULT_REJECTION_DAYS;
  const router = Router();

  router.use('/console', (req, res, next) => {
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      // Not no-referrer: under it Chromium sends `Origin: null` with the console's own forms, which the origin check refuses.
      'Referrer-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    });
    res.vary('Accept-Language').vary('Cookie');
    next();
  });
  router.use('/console', express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }));
  // Defence in depth beside SameSite and the CSRF token (and the only guard of the login form, which has no session yet):
  // a form sent from another origin is refused. Browsers send Origin on every POST; a client without it is no browser.
  // The host is compared, not the scheme: behind a TLS-terminating proxy the service itself sees plain http.
  router.post('/console/*path', (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined || originHost(origin) === req.get('host')) return next();
    const ctx = context(req);
    html(res, 403, errorPage(ctx, textOf(ctx.locale)('error.origin')));
  });

  /** The caller's live session whose key still works; undefined otherwise (a revoked key's session is ended). */
  const signedIn = async (req: Request): Promise<Signed | undefined> => {
    const id = cookies(req).get(SESSION_COOKIE);
    const session = await sessions.get(id);
    if (!id || !session) return undefined;
    const principal = await resolve(session.keyHash);
    if (!principal) {
      await sessions.destroy(id);
      return undefined;
    }
    return { id, session, principal };
  };
  const context = (req: Request, s?: Signed): PageContext => {
    const flash = s?.session.flash;
    if (s) delete s.session.flash;
    return {
      locale: localeOf(req), path: backTo(req.baseUrl + req.path), ...(deps.imports ? { upload: true } : {}),
      ...(s ? { principal: s.principal, csrf: s.session.csrf } : {}), ...(flash ? { flash } : {}),
    };
  };
  const html = (res: Response, status: number, page: string) => res.status(status).type('text/html; charset=utf-8').send(page);
  const needLogin = (req: Request, res: Response) => {
    const hadCookie = cookies(req).has(SESSION_COOKIE);
    const ctx = context(req);
    html(res, 401, loginPage(ctx, textOf(ctx.locale)(hadCookie ? 'login.expired' : 'error.login-needed')));
  };
  /** Pages: the signed-in caller, or the login page (401). */
  const page = (render: (req: Request, res: Response, s: Signed) => Promise<void> | void) => async (req: Request, res: Response) => {
    const s = await signedIn(req);
    if (!s) return needLogin(req, res);
    try {
      await render(req, res, s);
    } catch (e) {
      if (!(e instanceof QueryParameterError)) throw e;
      const ctx = context(req, s);
      html(res, e.status, errorPage(ctx, textOf(ctx.locale)('error.bad-request', { message: e.text(ctx.locale) })));
    }
  };
  /** Forms that change something: signed in (401) and the session's CSRF token (403). */
  const action = (act: (req: Request, res: Response, s: Signed) => Promise<void> | void) =>
    page((req, res, s) => {
      if (!csrfMatches(s.session, (req.body as Record<string, unknown> | undefined)?._csrf)) {
        const ctx = context(req, s);
        return void html(res, 403, errorPage(ctx, textOf(ctx.locale)('error.csrf')));
      }
      return act(req, res, s);
    });
  const formField = (req: Request, name: string): string => {
    const v = req.body ? ownEntry(req.body as Record<string, unknown>, name) : undefined;
    return typeof v === 'string' ? v : '';
  };
  /** The list's page and (admin) facility filter from the query; the use case refuses a facility naming another (403). */
  const listParams = (req: Request, extra: RawParams): RawParams => {
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    const organization = typeof req.query.organization === 'string' ? req.query.organization : undefined;
    return { ...extra, _count: String(PAGE_SIZE), ...(cursor !== undefined ? { cursor } : {}), ...(organization !== undefined ? { organization } : {}) };
  };
  const filterOf = (req: Request) => (typeof req.query.organization === 'string' ? req.query.organization : undefined);

  router.get('/console/console.css', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(CONSOLE_CSS);
  });

  router.get('/console/lang/:locale', (req, res) => {
    const chosen = String(req.params.locale);
    if (isLocale(chosen)) setCookie(req, res, LANG_COOKIE, chosen, '; Max-Age=31536000');
    res.redirect(303, backTo(req.query.back));
  });

  router.get('/console', async (req, res) => {
    const s = await signedIn(req);
    if (!s) return void html(res, 200, loginPage(context(req)));
    html(res, 200, overviewPage(context(req, s), await facilityOverviews(overviewDeps, scopeOf(s.principal), localeOf(req))));
  });

  router.post('/console/login', async (req, res) => {
    const ctx = context(req);
    const t = textOf(ctx.locale);
    const address = clientAddress(req);
    const refuse = (ms: number) => html(res, 429, loginPage(ctx, t('login.throttled', { seconds: Math.max(1, Math.ceil(ms / 1000)) })));
    const blocked = deps.throttle ? await deps.throttle.retryAfterMs(address) : 0;
    if (blocked) return void refuse(blocked);
    const key = formField(req, 'apiKey').trim();
    const keyHash = key.length >= 8 && key.length <= 512 ? hashApiKey(key) : undefined;
    if (keyHash && (await resolve(keyHash))) {
      await sessions.destroy(cookies(req).get(SESSION_COOKIE)); // a fresh id at each sign-in (no fixation)
      const { id } = await sessions.create(keyHash);
      setCookie(req, res, SESSION_COOKIE, id);
      return void res.redirect(303, '/console');
    }
    const blockMs = deps.throttle ? await deps.throttle.failed(address) : 0;
    if (blockMs) return void refuse(blockMs);
    html(res, 401, loginPage(ctx, t('login.wrong')));
  });

  router.post('/console/logout', action(async (req, res, s) => {
    await sessions.destroy(s.id);
    setCookie(req, res, SESSION_COOKIE, '', '; Max-Age=0');
    res.redirect(303, '/console');
  }));

  router.get('/console/attention', page(async (req, res, s) => {
    const ctx = context(req, s);
    const scope = scopeOf(s.principal);
    const list = await listVisits(queryDeps, scope, listParams(req, { state: ATTENTION_STATES }), ctx.locale);
    const items = [];
    for (const visit of list.items) {
      items.push({ visit, issues: issuesOf(await showVisit(queryDeps, scope, visit.organizationId, visit.visitId, { locale: ctx.locale })) });
    }
    html(res, 200, attentionPage(ctx, items, { nextCursor: list.nextCursor, onFirst: req.query.cursor === undefined, organization: filterOf(req) }));
  }));

  router.get('/console/rejections', page(async (req, res, s) => {
    const ctx = context(req, s);
    const since = new Date(now() - rejectionDays * DAY_MS).toISOString();
    const list = await listRejections(queryDeps, scopeOf(s.principal), listParams(req, { since }), ctx.locale);
    html(res, 200, rejectionsPage(ctx, rejectionDays, list.items, { nextCursor: list.nextCursor, onFirst: req.query.cursor === undefined, organization: filterOf(req) }));
  }));

  router.post('/console/requeue', action(async (req, res, s) => {
    const org = formField(req, 'organizationId');
    const visitId = formField(req, 'visitId');
    const t = textOf(localeOf(req));
    const done = await requeueVisit(queryDeps, scopeOf(s.principal), org, visitId);
    if (done.status === 'not-found') return void html(res, 404, errorPage(context(req, s), t('error.not-found')));
    await sessions.flash(s.id, done.status === 'requeued'
      ? t('requeued.done', { visitId, previousState: t(`state.${done.previousState}`) })
      : t('requeue.not-final', { visitId, state: t(`state.${done.state}`) }));
    deps.logger?.info({ org, visit: visitId, result: done.status }, 'visit requeue from the console');
    res.redirect(303, '/console/attention');
  }));

  const setStatus = (status: 'paused' | 'active') => action(async (req, res, s) => {
    const ctx = context(req, s);
    const t = textOf(ctx.locale);
    if (s.principal.role !== 'admin') return void html(res, 403, errorPage(ctx, t('error.admin-only')));
    const org = formField(req, 'organizationId');
    if (!overviewDeps.configured.has(org)) return void html(res, 404, errorPage(ctx, t('error.not-found')));
    await setFacilityStatus(deps.store, org, status, now());
    deps.logger?.info({ org, status }, 'facility status changed from the console');
    if (status === 'active') await deps.probe?.(org);
    await sessions.flash(s.id, t(status === 'paused' ? 'paused.done' : 'resumed.done', { organizationId: org }));
    res.redirect(303, '/console');
  });
  router.post('/console/facilities/pause', setStatus('paused'));
  router.post('/console/facilities/resume', setStatus('active'));

  const uploads = deps.imports ? uploadRoutes(router, deps, deps.imports, { page, context, html }) : undefined;

  // Any other console path: an HTML 404 (the app's JSON one would answer a browser with 406).
  router.use('/console', async (req, res) => {
    const ctx = context(req, await signedIn(req));
    html(res, 404, errorPage(ctx, textOf(ctx.locale)('error.no-page')));
  });

  return { router, sessions, ...(uploads ? { imports: uploads } : {}) };
}
