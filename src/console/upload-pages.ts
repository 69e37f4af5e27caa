// The upload page and an import job's page (progress, then the summary and the row errors). Pure, like pages.ts.
import { fileErrorText, summaryLines } from '../app/import.js';
import type { ImportJob } from '../app/import-jobs.js';
import { html } from './html.js';
import { csrfField, layout, textOf, when, type PageContext } from './pages.js';

export interface UploadForm {
  /** Facilities the admin chooses from (a facility key uploads for its own organization only). */
  facilities: readonly { organizationId: string; name?: string }[];
  templates: readonly string[];
  maxBytes: number;
  problem?: string;
}

/** A size cap as operators read it: `32 MB`, `512 KB`. */
export const sizeText = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB` : `${Math.ceil(bytes / 1024)} KB`;

export function uploadPage(ctx: PageContext, form: UploadForm): string {
  const t = textOf(ctx.locale);
  const admin = ctx.principal?.role === 'admin';
  // The fields come before the file: the server decides on them (CSRF, facility) before it stores a byte of the file.
  const facility = admin
    ? html`<label for="organizationId">${t('upload.facility')}</label><select id="organizationId" name="organizationId" required>${
      form.facilities.map((f) => html`<option value="${f.organizationId}">${f.name ? `${f.name} · ` : ''}${f.organizationId}</option>`)}</select>`
    : html`<p>${t('upload.for-facility', { organizationId: ctx.principal?.organizationId ?? '' })}</p>`;
  return layout(ctx, t('upload.heading'), html`<p>${t('upload.intro', { max: sizeText(form.maxBytes) })}</p>
${form.problem ? html`<p class="problem" role="alert" id="problem">${form.problem}</p>` : ''}
<form method="post" action="/console/upload" enctype="multipart/form-data" class="upload">${csrfField(ctx)}
${facility}
<label for="template">${t('upload.template')}</label><select id="template" name="template">${form.templates.map((name) => html`<option value="${name}">${name}</option>`)}</select>
<span><input type="checkbox" id="dryRun" name="dryRun" value="1"> <label for="dryRun">${t('upload.dry-run')}</label></span>
<label for="file">${t('upload.file')}</label><input type="file" id="file" name="file" accept=".csv,.xlsx" required>
<button type="submit" id="upload">${t('upload.submit')}</button>
</form>
<p><small>${t('upload.cli')}</small></p>`);
}

export function jobPage(ctx: PageContext, job: ImportJob): string {
  const t = textOf(ctx.locale);
  const s = job.progress;
  const stored = s ? s.created + s.revised + s.unchanged : 0;
  const counts = html`<p class="counts" id="counts"><span data-count="read">${t('job.read', { count: s?.read ?? 0 })}</span> · ${job.dryRun
    ? html`<span data-count="accepted">${t('job.would-store', { count: s?.accepted ?? 0 })}</span>`
    : html`<span data-count="stored">${t('job.stored', { count: stored })}</span>`} · <span data-count="rejected">${t('job.rejected', { count: s?.rejected ?? 0 })}</span></p>`;
  const meta = html`<p class="meta">${t('job.facility', { organizationId: job.organizationId })} · ${t('job.template', { template: job.template })}${
    job.dryRun ? html` · <strong>${t('job.dry-run')}</strong>` : ''} · ${t('job.started', { at: when(new Date(job.startedAt).toISOString()) ?? '' })}</p>`;
  const errors = job.errors.length
    ? html`<h2>${t('job.errors')}</h2><ul class="row-errors" id="row-errors">${job.errors.map((e) => html`<li data-row="${e.row}">${e.message}</li>`)}</ul>${
      job.moreErrors ? html`<p>${t('job.more-errors', { count: job.moreErrors })}</p>` : ''}`
    : '';
  let body;
  if (job.state === 'running') {
    body = html`<p id="running" role="status">${t('job.running', { seconds: ctx.refreshSeconds ?? 0 })}</p>
<progress id="progress" aria-label="${t('job.progress')}"></progress>${counts}${errors}`;
  } else if (job.state === 'interrupted') {
    body = html`<p class="problem" role="alert" id="problem">${t('job.interrupted', { at: when(new Date(job.finishedAt ?? job.startedAt).toISOString()) ?? '' })}</p>
${counts}${errors}<p><a href="/console/upload">${t('job.again')}</a></p>`;
  } else if (job.state === 'failed') {
    body = html`<p class="problem" role="alert" id="problem">${job.fileError ? t('job.file-error', { reason: fileErrorText(ctx.locale, job.fileError) }) : t('job.unexpected')}</p>
${counts}${errors}<p><a href="/console/upload">${t('job.again')}</a></p>`;
  } else {
    const rejectionsLink = !job.dryRun && s?.rejected
      ? html` · <a id="rejections-link" href="/console/rejections${ctx.principal?.role === 'admin' ? `?organization=${encodeURIComponent(job.organizationId)}` : ''}">${t('job.rejections')}</a>` : '';
    body = html`<progress id="progress" value="1" max="1" aria-label="${t('job.progress')}"></progress>${counts}
<div id="summary">${summaryLines(s!, ctx.locale).map((line) => html`<p>${line.trim()}</p>`)}</div>
${errors}<p><a href="/console/upload">${t('job.again')}</a>${rejectionsLink}</p>`;
  }
  return layout(ctx, t(job.state === 'running' ? 'job.heading-running' : 'job.heading-done'), html`${meta}${body}`);
}
