// The console's pages as HTML (every value through the `html` escaper; texts from messages/console.json). Pure: the
// router gathers the data from the use cases (src/app/) and hands it here.
import { messages, type Locale, type Params } from '../i18n/index.js';
import type { FacilityOverview } from '../app/facilities.js';
import type { RejectionListItem } from '../app/rejections.js';
import type { VisitListItem } from '../app/visits.js';
import { VISIT_STATES } from '../app/params.js';
import type { Principal } from '../api/auth.js';
import { html, type Html } from './html.js';

const catalogue = messages('console');

export interface PageContext {
  locale: Locale;
  /** Absent on the login page. */
  principal?: Principal;
  csrf?: string;
  flash?: string;
  /** Where the language link comes back to. */
  path: string;
  /** The console offers the spreadsheet upload (it is configured with the import dependencies). */
  upload?: boolean;
  /** `<meta http-equiv="refresh">` after this many seconds (a running import's page; the CSP allows no script). */
  refreshSeconds?: number;
}

export const textOf = (locale: Locale) => (key: string, params?: Params) => catalogue(locale, key, params);

/** An ISO instant as `YYYY-MM-DD HH:MM UTC` (operators compare it with their register, not parse it). */
export const when = (iso: string | undefined): string | undefined => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : undefined);

export function ageText(locale: Locale, seconds: number): string {
  const t = textOf(locale);
  const minutes = Math.floor(seconds / 60) % 60;
  const hours = Math.floor(seconds / 3600) % 24;
  const days = Math.floor(seconds / 86400);
  if (days) return t('age.days', { days, hours });
  if (hours) return t('age.hours', { hours, minutes });
  return t('age.minutes', { minutes: Math.floor(seconds / 60) });
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

export function layout(ctx: PageContext, heading: string, body: Html): string {
  const t = textOf(ctx.locale);
  const other: Locale = ctx.locale === 'id' ? 'en' : 'id';
  const p = ctx.principal;
  const nav = p
    ? html`<nav><a href="/console">${t('nav.overview')}</a> <a href="/console/attention">${t('nav.attention')}</a> <a href="/console/rejections">${t('nav.rejections')}</a>${ctx.upload ? html` <a href="/console/upload">${t('nav.upload')}</a>` : ''}</nav>
<p class="who">${p.role === 'admin' ? t('who.admin') : t('who.facility', { organizationId: p.organizationId! })}</p>
<form method="post" action="/console/logout" class="inline">${csrfField(ctx)}<button type="submit" id="logout">${t('logout')}</button></form>`
    : '';
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head><meta charset="utf-8">${ctx.refreshSeconds ? html`<meta http-equiv="refresh" content="${ctx.refreshSeconds}">` : ''}<meta name="viewport" content="width=device-width, initial-scale=1"><title>${heading} · ${t('title')}</title>
<link rel="stylesheet" href="/console/console.css"></head>
<body>
<header><strong>${t('title')}</strong> ${nav}
<a class="lang" id="lang" href="/console/lang/${other}?back=${encodeURIComponent(ctx.path)}" hreflang="${other}">${t('lang.switch')}</a></header>
<main>
${ctx.flash ? html`<p class="flash" role="status" id="flash">${ctx.flash}</p>` : ''}
<h1>${heading}</h1>
${body}
</main>
</body>
</html>
`.text;
}

export function loginPage(ctx: PageContext, problem?: string): string {
  const t = textOf(ctx.locale);
  return layout(ctx, t('login.heading'), html`<p>${t('login.intro')}</p>
${problem ? html`<p class="problem" role="alert" id="problem">${problem}</p>` : ''}
<form method="post" action="/console/login" class="login">
<label for="apiKey">${t('login.key')}</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="off" required maxlength="512">
<button type="submit" id="login">${t('login.submit')}</button>
</form>`);
}

export function errorPage(ctx: PageContext, problem: string): string {
  const t = textOf(ctx.locale);
  return layout(ctx, t('error.heading'), html`<p class="problem" role="alert" id="problem">${problem}</p><p><a href="/console">${t('back')}</a></p>`);
}

/** Where a list stands: the next page's cursor, whether this is the first page, and the admin's facility filter. */
export interface ListPosition {
  nextCursor: string | undefined;
  onFirst: boolean;
  organization: string | undefined;
}

const listUrl = (base: string, organization: string | undefined, cursor?: string): string => {
  const query = new URLSearchParams({ ...(organization !== undefined ? { organization } : {}), ...(cursor !== undefined ? { cursor } : {}) }).toString();
  return query ? `${base}?${query}` : base;
};

function pager(ctx: PageContext, base: string, at: ListPosition): Html {
  const t = textOf(ctx.locale);
  const filter = ctx.principal?.role === 'admin' && at.organization !== undefined
    ? html`<p class="filter">${t('attention.of', { organizationId: at.organization })} · <a href="${base}">${t('attention.all')}</a></p>` : '';
  return html`${filter}<p class="pager">${at.onFirst ? '' : html`<a href="${listUrl(base, at.organization)}">${t('first-page')}</a> `}${
    at.nextCursor ? html`<a id="next-page" href="${listUrl(base, at.organization, at.nextCursor)}">${t('next-page')}</a>` : ''}</p>`;
}

function facilityActions(ctx: PageContext, f: FacilityOverview): Html {
  if (ctx.principal?.role !== 'admin' || !f.configured) return html``;
  const t = textOf(ctx.locale);
  const action = f.status === 'active' ? 'pause' : 'resume';
  return html`<form method="post" action="/console/facilities/${action}" class="inline">${csrfField(ctx)}<input type="hidden" name="organizationId" value="${f.organizationId}"><button type="submit" data-action="${action}" data-org="${f.organizationId}">${t(action)}</button></form>`;
}

export function overviewPage(ctx: PageContext, facilities: readonly FacilityOverview[]): string {
  const t = textOf(ctx.locale);
  const rows = facilities.map((f) => html`<tr data-org="${f.organizationId}">
<td>${typeof f.name === 'string' ? html`${f.name}<br>` : ''}<code>${f.organizationId}</code>${ctx.principal?.role === 'admin'
  ? html`<br><small><a href="${listUrl('/console/attention', f.organizationId)}">${t('nav.attention')}</a> · <a href="${listUrl('/console/rejections', f.organizationId)}">${t('nav.rejections')}</a></small>` : ''}</td>
<td><span class="status status-${f.status}">${t(`status.${f.status}`)}</span><br><small>${f.explanation}</small></td>
${VISIT_STATES.map((s) => html`<td class="num" data-state="${s}">${f.counts[s]}</td>`)}
<td>${f.oldestWaitingAgeSeconds !== undefined ? ageText(ctx.locale, f.oldestWaitingAgeSeconds) : t('overview.none')}</td>
<td>${when(f.lastSentAt) ?? t('overview.never')}</td>
${ctx.principal?.role === 'admin' ? html`<td>${facilityActions(ctx, f)}</td>` : ''}
</tr>`);
  return layout(ctx, t('overview.heading'), html`<table id="facilities"><thead><tr><th>${t('overview.facility')}</th><th>${t('overview.status')}</th>
${VISIT_STATES.map((s) => html`<th>${t(`state.${s}`)}</th>`)}<th>${t('overview.oldest')}</th><th>${t('overview.last-sent')}</th>
${ctx.principal?.role === 'admin' ? html`<th>${t('overview.actions')}</th>` : ''}</tr></thead>
<tbody>${rows}</tbody></table>`);
}

/** One issue as the console shows it: the source field(s) and the problem. */
export interface FieldIssue {
  field?: string;
  problem: string;
}

function issueTable(ctx: PageContext, issues: readonly FieldIssue[]): Html {
  const t = textOf(ctx.locale);
  if (!issues.length) return html`<p><small>${t('attention.no-issues')}</small></p>`;
  return html`<table class="issues"><thead><tr><th>${t('attention.field')}</th><th>${t('attention.problem')}</th></tr></thead><tbody>${
    issues.map((i) => html`<tr><td><code>${i.field ?? '–'}</code></td><td>${i.problem}</td></tr>`)}</tbody></table>`;
}

export interface AttentionItem {
  visit: VisitListItem;
  issues: FieldIssue[];
}

export function attentionPage(ctx: PageContext, items: readonly AttentionItem[], at: ListPosition): string {
  const t = textOf(ctx.locale);
  const admin = ctx.principal?.role === 'admin';
  const rows = items.map(({ visit: v, issues }) => html`<article class="visit" data-visit="${v.visitId}" data-org="${v.organizationId}">
<h2><code>${v.visitId}</code>${admin ? html` · <code>${v.organizationId}</code>` : ''} <span class="state state-${v.state}">${t(`state.${v.state}`)}</span></h2>
<p class="meta">${t('attention.updated')}: ${when(v.updatedAt)} · ${t('attention.attempts')}: ${v.attempts}</p>
<h3>${t('attention.what')}</h3><p class="explanation">${v.explanation}</p>
<h3>${t('attention.issues')}</h3>${issueTable(ctx, issues)}
<form method="post" action="/console/requeue">${csrfField(ctx)}<input type="hidden" name="organizationId" value="${v.organizationId}"><input type="hidden" name="visitId" value="${v.visitId}"><button type="submit" class="requeue">${t('requeue')}</button></form>
</article>`);
  return layout(ctx, t('attention.heading'), html`<p>${t('attention.intro')}</p>
${items.length ? rows : html`<p id="none">${t('attention.none')}</p>`}
${pager(ctx, '/console/attention', at)}`);
}

export function rejectionsPage(ctx: PageContext, days: number, items: readonly RejectionListItem[], at: ListPosition): string {
  const t = textOf(ctx.locale);
  const admin = ctx.principal?.role === 'admin';
  const rows = items.map((r) => html`<article class="rejection" data-org="${r.organizationId}">
<h2><code>${r.visitId ?? t('rejections.no-visit-id')}</code>${admin ? html` · <code>${r.organizationId}</code>` : ''}</h2>
<p class="meta">${t('rejections.at')}: ${when(r.at)}</p>
${issueTable(ctx, r.issues.map((i) => ({ ...(i.expression?.length ? { field: i.expression.join(', ') } : {}), problem: i.diagnostics ?? i.code })))}
</article>`);
  return layout(ctx, t('rejections.heading', { days }), html`<p>${t('rejections.intro')}</p>
${items.length ? rows : html`<p id="none">${t('rejections.none')}</p>`}
${pager(ctx, '/console/rejections', at)}`);
}

export const CONSOLE_CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#0b5e55;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a,header .who{color:#fff}header nav a{margin-right:.8rem}.lang{margin-left:auto}
main{padding:1rem;max-width:75rem}table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d0d4da;padding:.35rem .5rem;text-align:left;vertical-align:top}td.num{text-align:right}
.visit,.rejection{background:#fff;border:1px solid #d0d4da;padding:.6rem 1rem;margin:.8rem 0}
.state,.status{padding:0 .4rem;border-radius:.3rem;background:#e3e7ec}.state-needs-correction,.status-auth-failed,.status-config-error{background:#ffe1b3}
.state-blocked,.state-dead-letter{background:#ffc9c9}.status-paused{background:#e0d7ff}
.flash{background:#dff5e3;padding:.5rem}.problem{background:#ffe1e1;padding:.5rem}
form.inline{display:inline}form.login{display:flex;gap:.5rem;align-items:center}input[type=password]{min-width:20rem}
.visit form{margin-top:.5rem}form.upload{display:grid;gap:.6rem;max-width:36rem;background:#fff;border:1px solid #d0d4da;padding:1rem}
form.upload label{font-weight:600}progress{width:100%;height:1.2rem}.counts{font-size:1.1rem}.row-errors li{margin:.2rem 0}button{padding:.3rem .8rem}code{font-size:.95em}
`;
