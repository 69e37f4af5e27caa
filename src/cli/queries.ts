// What the query commands (`visits`, `facilities`, `rejections`) share: the service database opened like the service
// does (DATABASE_URL / DATA_DIR), --format table|json|csv, --lang id|en, and their texts from messages/queries.json.
// They call the use cases in src/app/ (never src/api): the CLI acts as the operator, so it sees every facility.
import type { Command } from 'commander';
import { LOCALES, messages, operatorLocale, type Locale } from '../i18n/index.js';
import { errorText } from '../i18n/issues.js';
import { loadServiceConfig, storeOptionsOf } from '../config/index.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { QueryParameterError } from '../app/params.js';
import { toCsv, type Column } from '../app/csv.js';
import type { Page } from '../app/params.js';
import { EXIT, type CliContext } from './context.js';
import { ownEntry } from '../util/own.js';

export const text = messages('queries');
export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputFlags {
  format: string;
  lang: string;
}

/** Adds --format and --lang to a command. */
export function withOutputOptions(cmd: Command, formats: readonly Format[] = FORMATS): Command {
  return cmd
    .option('--format <format>', `output: ${formats.join(' | ')}`, 'table')
    .option('--lang <lang>', 'language of explanations and titles: id (Bahasa Indonesia) | en (default: ILP_LANG, else id)', operatorLocale());
}

/** Thrown by a command to stop with an exit code and a message on stderr. */
export class CliStop extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

export function outputOf(flags: OutputFlags, formats: readonly Format[] = FORMATS): { format: Format; locale: Locale } {
  const locale = (LOCALES as readonly string[]).includes(flags.lang) ? (flags.lang as Locale) : undefined;
  if (!locale) throw new CliStop(EXIT.UNUSABLE, text('id', 'cli.bad-lang'));
  if (!(formats as readonly string[]).includes(flags.format)) throw new CliStop(EXIT.UNUSABLE, text(locale, 'cli.bad-format'));
  return { format: flags.format as Format, locale };
}

/** Runs a query command on the service database: opens it, runs, closes; stops and bad parameters become exit codes. */
export async function runOnStore(ctx: CliContext, name: string, locale: () => Locale, run: (store: Store) => Promise<void>): Promise<void> {
  let store: Store | undefined;
  try {
    try {
      const cfg = loadServiceConfig(process.env);
      store = await openStore(storeOptionsOf(cfg));
    } catch (e) {
      const reason = errorText(e, locale());
      throw new CliStop(EXIT.UNUSABLE, text(locale(), 'cli.no-store', { reason }));
    }
    await run(store);
  } catch (e) {
    if (e instanceof QueryParameterError) {
      ctx.stderr.write(`ilp-adapter ${name}: ${text(locale(), 'cli.bad-parameter', { message: e.text(locale()) })}\n`);
      ctx.exitCode = EXIT.UNUSABLE;
    } else if (e instanceof CliStop) {
      ctx.stderr.write(`ilp-adapter ${name}: ${e.message}\n`);
      ctx.exitCode = e.exitCode;
    } else {
      throw e;
    }
  } finally {
    await store?.close();
  }
}

const cellText = (v: string | number | undefined) => (v === undefined ? '' : String(v).replace(/[\r\n\t]+/g, ' '));

/** Aligned columns with titles from the catalogue; the last column is not padded (explanations are long). */
export function toTable<T>(columns: readonly Column<T>[], rows: readonly T[], locale: Locale): string {
  const cells = [columns.map((c) => text(locale, `column.${c.key}`)), ...rows.map((r) => columns.map((c) => cellText(c.value(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Writes a page in the chosen format; a next page is announced on stderr (stdout stays a clean table / JSON / CSV). */
export function writePage<T>(ctx: CliContext, page: Page<T>, out: { format: Format; locale: Locale }, csv: readonly Column<T>[], table: readonly Column<T>[]): void {
  if (out.format === 'json') ctx.stdout.write(`${JSON.stringify(page)}\n`);
  else if (out.format === 'csv') ctx.stdout.write(toCsv(csv, page.items));
  else ctx.stdout.write(page.items.length ? toTable(table, page.items, out.locale) : `${text(out.locale, 'cli.none')}\n`);
  if (page.nextCursor) ctx.stderr.write(`${text(out.locale, 'cli.more', { cursor: page.nextCursor })}\n`);
}

/** CLI flag → list parameter (the API's query parameter names), for flags given only. */
export function listParamsOf(flags: Readonly<Record<string, unknown>>, names: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(names).flatMap(([flag, param]) => {
    const v = ownEntry(flags, flag);
    return typeof v === 'string' ? [[param, v]] : [];
  }));
}
