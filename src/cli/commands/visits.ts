// `ilp-adapter visits list|show|requeue` and `ilp-adapter rejections` on the service database (DATABASE_URL / DATA_DIR),
// with the filters of GET /ilp/visits and GET /ilp/rejections. The operator at the console sees every facility; the
// record itself (NIKs, names) is never printed. Exit 0 done, 1 not found / not requeueable, 2 bad parameter or no database.
import { Command } from 'commander';
import { EXIT, type CliContext } from '../context.js';
import { listVisits, requeueVisit, showVisit, type QueryDeps } from '../../app/visits.js';
import { listRejections } from '../../app/rejections.js';
import { REJECTION_COLUMNS, VISIT_COLUMNS, type Column } from '../../app/csv.js';
import type { RejectionListItem } from '../../app/rejections.js';
import type { VisitListItem } from '../../app/visits.js';
import type { Store } from '../../store/types.js';
import { operatorLocale, type Locale } from '../../i18n/index.js';
import { CliStop, listParamsOf, outputOf, runOnStore, text, withOutputOptions, writePage, type OutputFlags } from '../queries.js';

const ALL = { all: true } as const;
const pick = <T>(columns: readonly Column<T>[], keys: string[]) => keys.map((k) => columns.find((c) => c.key === k)!);
const VISIT_TABLE = pick(VISIT_COLUMNS, ['organizationId', 'visitId', 'state', 'attempts', 'nextAttemptAt', 'updatedAt', 'explanation']);
const REJECTION_TABLE = pick(REJECTION_COLUMNS, ['at', 'organizationId', 'visitId', 'issues']);

const PAGE_FLAGS = { count: '_count', cursor: 'cursor', organization: 'organization', q: 'q' };
const VISIT_FLAGS = { ...PAGE_FLAGS, state: 'state', setting: 'setting', locationCode: 'locationCode', from: 'from', to: 'to', updatedSince: 'updatedSince' };
const REJECTION_FLAGS = { ...PAGE_FLAGS, since: 'since', until: 'until' };

const deps = (ctx: CliContext, store: Store): QueryDeps => ({ store, now: () => ctx.clock().getTime() });
// The language of messages about the flags themselves (before --lang is validated).
const localeFlag = (flags: OutputFlags) => (): Locale => (flags.lang === 'en' ? 'en' : 'id');

function pageOptions(cmd: Command): Command {
  return cmd
    .option('--organization <id>', 'one facility (default: every facility)')
    .option('--q <prefix>', 'visitId starts with this')
    .option('--count <n>', 'rows per page, 1–500', '50')
    .option('--cursor <cursor>', 'the next page (as printed after the previous one)');
}

export function visitsCommand(ctx: CliContext): Command {
  const visits = new Command('visits').description('visit records in the service database: list, show, requeue');

  withOutputOptions(pageOptions(visits.command('list').description('visits, newest change first, with filters as GET /ilp/visits')))
    .option('--state <states>', 'queued, sending, sent, needs-correction, blocked, dead-letter (several with commas)')
    .option('--setting <setting>', 'puskesmas | pustu | posyandu | home-visit')
    .option('--location-code <code>', 'the facility location code')
    .option('--from <date>', 'visit start from (YYYY-MM-DD in WIB, or a date-time with offset)')
    .option('--to <date>', 'visit start before (a date: up to the end of that day)')
    .option('--updated-since <date>', 'changed at or after')
    .action((flags: OutputFlags & Record<string, unknown>) => runOnStore(ctx, 'visits list', localeFlag(flags), async (store) => {
      const out = outputOf(flags);
      writePage<VisitListItem>(ctx, await listVisits(deps(ctx, store), ALL, listParamsOf(flags, VISIT_FLAGS), out.locale), out, VISIT_COLUMNS, VISIT_TABLE);
    }));

  withOutputOptions(visits.command('show <organizationId> <visitId>').description('one visit: state, explanation, last error, history (never the record)'), ['table', 'json'])
    .action((org: string, visitId: string, flags: OutputFlags) => runOnStore(ctx, 'visits show', localeFlag(flags), async (store) => {
      const out = outputOf(flags, ['table', 'json']);
      const view = await showVisit(deps(ctx, store), ALL, org, visitId, { locale: out.locale });
      if (!view) throw new CliStop(EXIT.INVALID, text(out.locale, 'cli.not-found', { organizationId: org, visitId }));
      ctx.stdout.write(out.format === 'json' ? `${JSON.stringify(view)}\n` : `${Object.entries(view).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n')}\n`);
    }));

  visits.command('requeue <organizationId> <visitId>')
    .description('put a blocked / needs-correction / dead-letter visit back in the queue')
    .option('--lang <lang>', 'id | en (default: ILP_LANG, else id)', operatorLocale())
    .action((org: string, visitId: string, flags: { lang: string }) => runOnStore(ctx, 'visits requeue', localeFlag({ ...flags, format: 'table' }), async (store) => {
      const { locale } = outputOf({ ...flags, format: 'table' });
      const done = await requeueVisit(deps(ctx, store), ALL, org, visitId);
      if (done.status === 'not-found') throw new CliStop(EXIT.INVALID, text(locale, 'cli.not-found', { organizationId: org, visitId }));
      if (done.status === 'not-final') throw new CliStop(EXIT.INVALID, text(locale, 'cli.not-final', { state: done.state }));
      ctx.stdout.write(`${text(locale, 'cli.requeued', { visitId, previousState: done.previousState })}\n`);
    }));
  return visits;
}

export function rejectionsCommand(ctx: CliContext): Command {
  return withOutputOptions(pageOptions(new Command('rejections').description('records refused at push (their issues, never their content), newest first')))
    .option('--since <date>', 'at or after (YYYY-MM-DD in WIB, or a date-time with offset)')
    .option('--until <date>', 'before (a date: up to the end of that day)')
    .action((flags: OutputFlags & Record<string, unknown>) => runOnStore(ctx, 'rejections', localeFlag(flags), async (store) => {
      const out = outputOf(flags);
      writePage<RejectionListItem>(ctx, await listRejections(deps(ctx, store), ALL, listParamsOf(flags, REJECTION_FLAGS), out.locale), out, REJECTION_COLUMNS, REJECTION_TABLE);
    }));
}
