// `ilp-adapter map <file|->`: one ILP visit record, or NDJSON of records → one transaction Bundle per record as a
// JSON line on stdout, in input order (dry run: nothing stored or sent). Invalid records: a JSON line
// `{"line":N,"status":"invalid","outcome":OperationOutcome}` on stderr (outcome.id `line-N`, as in `validate`); warnings
// likewise with --verbose. Blank lines are skipped but counted.
// Exit 0 all mapped, 1 any invalid record, 2 unusable input (unreadable, not JSON, not an object).
import { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import type { ValidatorLike } from '../../app/contracts.js';
import { dryRun, type Mapper } from '../../app/dry-run.js';
import { toOperationOutcome, type Issue } from '../../validation/outcome.js';
import { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits } from '../../util/json-limits.js';
import { itemId, LINE_ID_HELP, openInput, readItems, writeLine, type InputItem } from '../ndjson.js';
import { EXIT, parseNow, type CliContext } from '../context.js';
import { isWellFormedVisitId } from '../../util/visit-id.js';
import { DEFAULT_LOCALE, operatorLocale, type Locale } from '../../i18n/index.js';
import { localizeIssues } from '../../i18n/issues.js';
import { cliText, itemIssue, localeOption, notJsonIssue, openFailureText, tooCostlyIssue } from '../framing.js';

export interface MapRunOptions {
  input: Readable;
  output: Writable;
  errors: Writable;
  verbose: boolean;
  now: Date;
  mapper: Mapper;
  validator: ValidatorLike;
  limits?: JsonLimits;
  /** Language of the source-record issues and the framing lines (default Bahasa Indonesia). */
  locale?: Locale;
}

type Status = 'invalid' | 'defect' | 'unusable' | 'warnings';

/** The record's visitId for correlation, only when it is a well-formed id; long digit runs (a NIK, a phone) masked as in the logs. */
function shownVisitId(v: unknown): string | undefined {
  return isWellFormedVisitId(v) ? v.replace(/\d{10,}/g, '[REDACTED]') : undefined;
}

async function report(o: MapRunOptions, item: InputItem, status: Status, issues: Issue[], visitId?: unknown): Promise<void> {
  const entry: Record<string, unknown> = { line: item.line, ...(item.ok && item.index !== undefined ? { item: item.index } : {}), status };
  const id = shownVisitId(visitId);
  if (id !== undefined) entry.visitId = id;
  entry.outcome = { resourceType: 'OperationOutcome', id: itemId(item), issue: toOperationOutcome(localizeIssues(issues, o.locale ?? DEFAULT_LOCALE)).issue };
  await writeLine(o.errors, JSON.stringify(entry));
}

export async function runMap(o: MapRunOptions): Promise<number> {
  const locale = o.locale ?? DEFAULT_LOCALE;
  const tally = { mapped: 0, invalid: 0, unusable: 0 };
  try {
    for await (const item of readItems(o.input)) {
      if (!item.ok) {
        tally.unusable++;
        await report(o, item, 'unusable', [notJsonIssue(item)]);
        continue;
      }
      const v = item.value;
      const violation = checkJsonLimits(v, o.limits ?? DEFAULT_JSON_LIMITS);
      if (violation || v === null || typeof v !== 'object' || Array.isArray(v)) {
        tally.unusable++;
        const why = violation ? tooCostlyIssue(item, violation) : itemIssue(item, 'structure', 'unusable.not-record');
        await report(o, item, 'unusable', [why]);
        continue;
      }
      const record = v as Record<string, unknown>;
      let result;
      try {
        result = dryRun(record, { mapper: o.mapper, validator: o.validator, now: o.now });
      } catch {
        result = { status: 'defect' as const, issues: [itemIssue(item, 'exception', 'defect.mapping')] };
      }
      if (result.status === 'mapped') {
        tally.mapped++;
        await writeLine(o.output, JSON.stringify(result.bundle));
        if (o.verbose && result.warnings.length) await report(o, item, 'warnings', result.warnings, record.visitId);
      } else {
        tally.invalid++;
        await report(o, item, result.status, result.issues, record.visitId);
      }
    }
  } catch (err) {
    await writeLine(o.errors, cliText(locale, 'map', 'input.unreadable', { why: err instanceof Error ? err.message : 'unknown error' }));
    return EXIT.UNUSABLE;
  }
  const total = tally.mapped + tally.invalid + tally.unusable;
  if (total === 0) {
    await writeLine(o.errors, cliText(locale, 'map', 'input.empty'));
    return EXIT.UNUSABLE;
  }
  if (o.verbose) await writeLine(o.errors, JSON.stringify({ summary: { records: total, ...tally } }));
  return tally.unusable ? EXIT.UNUSABLE : tally.invalid ? EXIT.INVALID : EXIT.OK;
}

export function mapCommand(ctx: CliContext): Command {
  return new Command('map')
    .description('Map ILP visit record(s) to SATUSEHAT transaction Bundles (dry run): one Bundle per record as a JSON line')
    .argument('<file>', "one record or NDJSON of records; '-' for stdin")
    .option('-v, --verbose', 'also report warnings (references sync will resolve) on stderr', false)
    .option('--now <datetime>', 'reference time for date checks (default: now)')
    .option('--lang <lang>', 'language of the record problems: id (Bahasa Indonesia) | en (default: ILP_LANG, else id)', operatorLocale())
    .addHelpText(
      'after',
      '\nstderr: one JSON line per record that did not map (and, with --verbose, per record with warnings):\n' +
        '{"line":N,"item"?:N,"status":"invalid"|"defect"|"unusable"|"warnings","visitId"?:...,"outcome":OperationOutcome}.\n' +
        `${LINE_ID_HELP}\n` +
        '\nExit codes: 0 all mapped, 1 any invalid record (OperationOutcome on stderr with its line), 2 unusable input.',
    )
    .action(async (file: string, opts: { verbose: boolean; now?: string; lang: string }) => {
      let input: Readable;
      let now: Date;
      const locale = localeOption(opts.lang);
      if (!locale) {
        await writeLine(ctx.stderr, cliText(operatorLocale(), 'map', 'option.lang'));
        ctx.exitCode = EXIT.UNUSABLE;
        return;
      }
      try {
        now = parseNow(opts.now, ctx.clock);
        input = await openInput(file, ctx.stdin);
      } catch (err) {
        await writeLine(ctx.stderr, openFailureText(locale, 'map', err));
        ctx.exitCode = EXIT.UNUSABLE;
        return;
      }
      ctx.exitCode = await runMap({ input, output: ctx.stdout, errors: ctx.stderr, verbose: opts.verbose, now, locale, mapper: ctx.mapper(), validator: ctx.validator() });
    });
}
