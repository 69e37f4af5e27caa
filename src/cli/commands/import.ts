// `ilp-adapter import FILE.csv|FILE.xlsx --org ORG --template posyandu [--dry-run] [--lang id|en]` on the service
// database (DATABASE_URL / DATA_DIR): the rows of a spreadsheet template → visit records through the ingest checks of
// POST /ilp/visits (src/app/import.ts). Problems per row and column on stdout as they are found, a progress line on
// stderr when it is a terminal, the summary at the end. Exit 0 all imported, 1 some rows rejected, 2 unusable file.
import { Command } from 'commander';
import { statSync } from 'node:fs';
import { EXIT, type CliContext } from '../context.js';
import { LOCALES, messages, operatorLocale, type Locale } from '../../i18n/index.js';
import { errorText } from '../../i18n/issues.js';
import { loadHmacKey, loadServiceConfig, storeOptionsOf } from '../../config/index.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import { mappingKit } from '../../compose.js';
import { fileErrorText, importFile, ImportFileError, summaryLines, type ImportSummary } from '../../app/import.js';
import { loadTemplate, TemplateError } from '../../app/import-template.js';
import { formatOf } from '../../app/import-readers.js';
import { CliStop } from '../queries.js';
import { facilityEntries } from './facilities.js';

const text = messages('import');

interface ImportFlags {
  org: string;
  template: string;
  dryRun?: boolean;
  lang: string;
  batchSize?: string;
}


async function run(ctx: CliContext, file: string, flags: ImportFlags, locale: Locale): Promise<ImportSummary> {
  const format = formatOf(file);
  if (!format) throw new CliStop(EXIT.UNUSABLE, text(locale, 'file.extension'));
  let template;
  try {
    template = loadTemplate(flags.template);
  } catch (e) {
    if (e instanceof TemplateError) throw new CliStop(EXIT.UNUSABLE, text(locale, 'file.template', { template: flags.template.slice(0, 40) }));
    throw e;
  }
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new CliStop(EXIT.UNUSABLE, text(locale, 'file.unreadable', { reason: (e as NodeJS.ErrnoException).code ?? errorText(e, locale) }));
  }
  const batchSize = flags.batchSize === undefined ? undefined : Number(flags.batchSize);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 5000)) throw new CliStop(EXIT.UNUSABLE, '--batch-size: 1–5000');

  let store: Store | undefined;
  try {
    let cfg, hmac, facilities;
    try {
      cfg = loadServiceConfig(process.env);
      facilities = facilityEntries();
      hmac = loadHmacKey(cfg.hmacKey, cfg.dataDir);
      store = await openStore(storeOptionsOf(cfg));
    } catch (e) {
      throw new CliStop(EXIT.UNUSABLE, text(locale, 'file.no-store', { reason: errorText(e, locale) }));
    }
    const facility = facilities.find((f) => f.organizationId === flags.org);
    if (!facility) throw new CliStop(EXIT.UNUSABLE, text(locale, 'file.organization', { organizationId: flags.org.slice(0, 64) }));
    const hmacKey = hmac.key;
    const progress = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
    const summary = await importFile(file, format, {
      store, validator: ctx.validator(), mapper: ctx.mapper(), now: ctx.clock, idKey: hmacKey,
      organizations: new Set(facilities.map((f) => f.organizationId)),
      locations: new Map(facilities.map((f) => [f.organizationId, new Set(Object.keys(f.locations))])),
      weighingOf: mappingKit().weighingOf(hmacKey),
      rejectionsRetentionDays: cfg.rejectionsRetentionDays,
    }, {
      organizationId: flags.org, template, timeZone: facility.timezone, locale, dryRun: !!flags.dryRun, ...(batchSize ? { batchSize } : {}),
      onRowError: (e) => void ctx.stdout.write(`${e.message}\n`),
      ...(progress ? { onProgress: (s: Readonly<ImportSummary>) => void ctx.stderr.write(`\r${text(locale, 'progress', { read: s.read, accepted: s.accepted, rejected: s.rejected })}`) } : {}),
    });
    if (progress) ctx.stderr.write('\n');
    return summary;
  } catch (e) {
    if (e instanceof ImportFileError) throw new CliStop(EXIT.UNUSABLE, fileErrorText(locale, e));
    throw e;
  } finally {
    await store?.close();
  }
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .description('import visits from a spreadsheet (CSV or XLSX) of a template in mappings/imports/, through the same checks as POST /ilp/visits')
    .argument('<file>', 'FILE.csv or FILE.xlsx (first sheet); the first non-empty row holds the column headers')
    .requiredOption('--org <organizationId>', 'the facility (SATUSEHAT Organization id) the visits belong to')
    .option('--template <name>', 'the column template (mappings/imports/<name>.json)', 'posyandu')
    .option('--dry-run', 'check every row, store nothing')
    .option('--batch-size <n>', 'rows per store transaction', '500')
    .option('--lang <lang>', 'language of problems and summary: id (Bahasa Indonesia) | en (default: ILP_LANG, else id)', operatorLocale())
    .action(async (file: string, flags: ImportFlags) => {
      const locale = (LOCALES as readonly string[]).includes(flags.lang) ? (flags.lang as Locale) : undefined;
      try {
        if (!locale) throw new CliStop(EXIT.UNUSABLE, text('id', 'file.bad-lang'));
        const summary = await run(ctx, file, flags, locale);
        ctx.stdout.write(`${summaryLines(summary, locale).join('\n')}\n`);
        ctx.exitCode = summary.rejected ? EXIT.INVALID : EXIT.OK;
      } catch (e) {
        if (!(e instanceof CliStop)) throw e;
        ctx.stderr.write(`ilp-adapter import: ${e.message}\n`);
        ctx.exitCode = e.exitCode;
      }
    });
}
