// Health data at rest from the command line: `ilp-adapter purge [--dry-run]` (retention now, counts per kind and the
// oldest date) and `ilp-adapter keys rotate-data` (every body under the current data key, batch by batch, resumable).
// Both open the service database like the service (DATABASE_URL / DATA_DIR, DATA_KEYS / DATA_KEY_FILE).
// Texts: messages/at-rest.json, Bahasa Indonesia unless --lang en.
import { Command } from 'commander';
import { loadServiceConfig } from '../../config/index.js';
import { messages, operatorLocale, type Locale, type Params } from '../../i18n/index.js';
import { previewRetention, purgeExpired, RETENTION_KINDS, rotateData, type RetentionSettings } from '../../app/retention.js';
import { CliStop, outputOf, runOnStore, type OutputFlags } from '../queries.js';
import { EXIT, parseNow, type CliContext } from '../context.js';

const catalogue = messages('at-rest');
const localeFlag = (flags: { lang: string }) => (): Locale => (flags.lang === 'en' ? 'en' : 'id');

function retentionSettings(): RetentionSettings {
  const cfg = loadServiceConfig(process.env);
  return { sentDays: cfg.retentionSentDays, historyDays: cfg.historyRetentionDays, rejectionsDays: cfg.rejectionsRetentionDays };
}

const DAYS_OF = { sentBodies: 'sentDays', visitEvents: 'historyDays', rejections: 'rejectionsDays' } as const;

export function purgeCommand(ctx: CliContext): Command {
  return new Command('purge')
    .description('remove what is past retention: bodies of sent records, visit history, rejection entries')
    .option('--dry-run', 'only show what would go (counts per kind, oldest date)')
    .option('--now <date-time>', 'act as if it were this time (ISO 8601 with offset)')
    .option('--format <format>', 'output: table | json', 'table')
    .option('--lang <lang>', 'id | en (default: ILP_LANG, else id)', operatorLocale())
    .action((flags: OutputFlags & { dryRun?: boolean; now?: string }) => runOnStore(ctx, 'purge', localeFlag(flags), async (store) => {
      const out = outputOf(flags, ['table', 'json']);
      const t = (key: string, params?: Params) => catalogue(out.locale, key, params);
      let now: number;
      try {
        now = parseNow(flags.now, ctx.clock).getTime();
      } catch (e) {
        throw new CliStop(EXIT.UNUSABLE, (e as Error).message);
      }
      const settings = retentionSettings();
      const preview = await previewRetention(store, now, settings);
      const removed = flags.dryRun ? undefined : await purgeExpired(store, now, settings);
      if (out.format === 'json') {
        ctx.stdout.write(`${JSON.stringify({
          dryRun: !!flags.dryRun,
          retentionDays: { sentBodies: settings.sentDays, visitEvents: settings.historyDays, rejections: settings.rejectionsDays },
          ...Object.fromEntries(RETENTION_KINDS.map((k) => [k, {
            count: removed ? removed[k] : preview[k].count,
            ...(preview[k].oldest !== undefined ? { oldest: new Date(preview[k].oldest!).toISOString() } : {}),
          }])),
        })}\n`);
      } else {
        const lines = RETENTION_KINDS.map((k) => t('purge.line', {
          kind: t(`kind.${k}`, { days: settings[DAYS_OF[k]] }),
          count: removed ? removed[k] : preview[k].count,
          oldest: preview[k].oldest !== undefined ? t('purge.oldest', { at: new Date(preview[k].oldest!).toISOString() }) : '',
        }));
        ctx.stdout.write(`${t(flags.dryRun ? 'purge.dry-run.title' : 'purge.done.title')}\n${lines.join('\n')}\n`);
      }
      ctx.exitCode = EXIT.OK;
    }));
}

/** `keys rotate-data`: a subcommand of `keys`. */
export function rotateDataCommand(ctx: CliContext): Command {
  return new Command('rotate-data')
    .description('re-encrypt every record body not under the current data key (the first of DATA_KEYS / the key file); resumable')
    .option('--batch <n>', 'bodies per transaction', '200')
    .option('--lang <lang>', 'id | en (default: ILP_LANG, else id)', operatorLocale())
    .action((flags: { batch: string; lang: string }) => runOnStore(ctx, 'keys rotate-data', localeFlag(flags), async (store) => {
      const { locale } = outputOf({ lang: flags.lang, format: 'table' });
      const t = (key: string, params?: Params) => catalogue(locale, key, params);
      const batch = Number(flags.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new CliStop(EXIT.UNUSABLE, '--batch must be an integer between 1 and 10000');
      const current = (await store.bodyKeyCounts()).currentKeyId;
      if (current === undefined) throw new CliStop(EXIT.UNUSABLE, t('rotate.plain-codec'));
      const summary = await rotateData(store, {
        batch,
        onBatch: (s) => void ctx.stderr.write(`${t('rotate.progress', { reencrypted: s.reencrypted, batches: s.batches })}\n`),
      });
      const counts = await store.bodyKeyCounts();
      const keyIds = Object.keys(counts.byKey);
      ctx.stdout.write(`${t('rotate.summary', {
        reencrypted: summary.reencrypted, keyId: current,
        byKey: keyIds.length ? Object.entries(counts.byKey).map(([k, n]) => `${k} ${n}`).join(', ') : '0', purged: counts.purged,
      })}\n`);
      if (summary.unreadable.length) {
        const visits = summary.unreadable.slice(0, 20).map((u) => `${u.organizationId}/${u.visitId} (${u.keyId})`).join(', ') + (summary.unreadable.length > 20 ? ', …' : '');
        ctx.stdout.write(`${t('rotate.unreadable', { count: summary.unreadable.length, visits })}\n`);
        ctx.exitCode = EXIT.INVALID;
        return;
      }
      if (keyIds.every((k) => k === current)) ctx.stdout.write(`${t('rotate.retire')}\n`);
      ctx.exitCode = EXIT.OK;
    }));
}
