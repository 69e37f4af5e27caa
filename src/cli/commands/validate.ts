// `ilp-adapter validate <file|->`: a resource, a Bundle, or NDJSON of many → OperationOutcome(s).
// Exit 0 all valid, 1 any invalid, 2 unusable input (unreadable file, a line that is not JSON or not a resource).
// Every OperationOutcome carries id `line-N` (or `item-N` for JSON array elements) so outputs can be joined to inputs
// even though blank lines produce none.
import { Command, Option } from 'commander';
import type { Readable, Writable } from 'node:stream';
import type { OperationOutcome } from 'fhir/r4.js';
import type { ValidatorLike } from '../../app/contracts.js';
import { hasErrors, toOperationOutcome, type Issue } from '../../validation/outcome.js';
import { checkJsonLimits, DEFAULT_JSON_LIMITS, type JsonLimits } from '../../util/json-limits.js';
import { itemId, LINE_ID_HELP, openInput, readItems, writeLine, type InputItem } from '../ndjson.js';
import { EXIT, parseNow, type CliContext } from '../context.js';
import { DEFAULT_LOCALE, operatorLocale, type Locale } from '../../i18n/index.js';
import { localizeIssues } from '../../i18n/issues.js';
import { cliText, itemIssue, itemLabel, localeOption, notJsonIssue, openFailureText, tooCostlyIssue } from '../framing.js';

export interface ValidateRunOptions {
  input: Readable;
  output: Writable;
  errors: Writable;
  format: 'json' | 'text';
  baseOnly: boolean;
  now: Date;
  validator: ValidatorLike;
  limits?: JsonLimits;
  /** Language of the framing lines and of the unusable-input issues (default Bahasa Indonesia); FHIR issues stay English. */
  locale?: Locale;
}

type Verdict = { kind: 'valid' | 'invalid' | 'unusable'; issues: Issue[]; type?: string };

/** Judges one input item; never throws for bad content. */
function judge(item: InputItem, o: ValidateRunOptions): Verdict {
  if (!item.ok) return { kind: 'unusable', issues: [notJsonIssue(item)] };
  const v = item.value;
  const violation = checkJsonLimits(v, o.limits ?? DEFAULT_JSON_LIMITS);
  if (violation) return { kind: 'unusable', issues: [tooCostlyIssue(item, violation)] };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { kind: 'unusable', issues: [itemIssue(item, 'structure', 'unusable.not-resource')] };
  }
  const rt = (v as Record<string, unknown>).resourceType;
  if (typeof rt !== 'string' || rt === '') {
    return { kind: 'unusable', issues: [itemIssue(item, 'required', 'unusable.no-resource-type', {}, 'resourceType')] };
  }
  let issues: Issue[];
  try {
    issues = o.validator.validate(v, { now: o.now, baseOnly: o.baseOnly });
  } catch {
    // A validator crash is our defect; report it for this item and keep going.
    return { kind: 'unusable', issues: [itemIssue(item, 'exception', 'defect.validating')] };
  }
  return { kind: hasErrors(issues) ? 'invalid' : 'valid', issues, type: rt };
}

function textReport(item: InputItem, v: Verdict, locale: Locale): string {
  const count = (s: Issue['severity']) => v.issues.filter((i) => i.severity === s).length;
  const errors = count('error') + count('fatal');
  const warnings = count('warning');
  const t = (key: string, params: Record<string, string | number> = {}) => cliText(locale, 'validate', key, { label: itemLabel(item, locale), ...params });
  const said = warnings ? t('verdict.warnings', { warnings }) : '';
  const head =
    v.kind === 'valid'
      ? `${t('verdict.valid', { type: v.type! })}${said ? ` (${said})` : ''}`
      : v.kind === 'invalid'
        ? `${t('verdict.invalid', { type: v.type!, errors })}${said ? `, ${said}` : ''}`
        : t('verdict.unusable');
  const lines = [head];
  for (const i of localizeIssues(v.issues, locale)) {
    if (i.severity === 'information') continue;
    const where = i.expression?.length ? ` ${i.expression.join(', ')}:` : '';
    lines.push(`  ${i.severity.padEnd(7)} ${String(i.code).padEnd(13)}${where} ${i.diagnostics}`);
  }
  return lines.join('\n');
}

export async function runValidate(o: ValidateRunOptions): Promise<number> {
  const locale = o.locale ?? DEFAULT_LOCALE;
  const tally = { valid: 0, invalid: 0, unusable: 0 };
  try {
    for await (const item of readItems(o.input)) {
      const verdict = judge(item, o);
      tally[verdict.kind]++;
      if (o.format === 'text') {
        await writeLine(o.output, textReport(item, verdict, locale));
      } else {
        const outcome: OperationOutcome = { resourceType: 'OperationOutcome', id: itemId(item), issue: toOperationOutcome(localizeIssues(verdict.issues, locale)).issue };
        await writeLine(o.output, item.mode === 'single' ? JSON.stringify(outcome, null, 2) : JSON.stringify(outcome));
      }
    }
  } catch (err) {
    await writeLine(o.errors, cliText(locale, 'validate', 'input.unreadable', { why: err instanceof Error ? err.message : 'unknown error' }));
    return EXIT.UNUSABLE;
  }
  const total = tally.valid + tally.invalid + tally.unusable;
  if (total === 0) {
    await writeLine(o.errors, cliText(locale, 'validate', 'input.empty'));
    return EXIT.UNUSABLE;
  }
  if (o.format === 'text') {
    await writeLine(o.output, cliText(locale, 'validate', 'summary.validate', { total, ...tally }));
  }
  return tally.unusable ? EXIT.UNUSABLE : tally.invalid ? EXIT.INVALID : EXIT.OK;
}

export function validateCommand(ctx: CliContext): Command {
  return new Command('validate')
    .description('Validate a FHIR resource, a Bundle, or NDJSON of many against FHIR R4 and the SATUSEHAT rules; prints OperationOutcome(s)')
    .argument('<file>', "input file, or '-' for stdin")
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text']).default('json'))
    .option('--base-r4', 'check base FHIR R4 only (no SATUSEHAT rules)', false)
    .option('--now <datetime>', 'reference time for date checks (default: now)')
    .option('--lang <lang>', 'language of the report lines: id (Bahasa Indonesia) | en (default: ILP_LANG, else id); FHIR issues stay English', operatorLocale())
    .addHelpText(
      'after',
      '\nOutput: one OperationOutcome per resource; for NDJSON input one per non-blank input line, as JSON lines in input order.\n' +
        `${LINE_ID_HELP}\n` +
        '\nExit codes: 0 all valid, 1 any invalid, 2 unusable input (unreadable, not JSON, not a resource).',
    )
    .action(async (file: string, opts: { format: 'json' | 'text'; baseR4: boolean; now?: string; lang: string }) => {
      let input: Readable;
      let now: Date;
      const locale = localeOption(opts.lang);
      if (!locale) {
        await writeLine(ctx.stderr, cliText(operatorLocale(), 'validate', 'option.lang'));
        ctx.exitCode = EXIT.UNUSABLE;
        return;
      }
      try {
        now = parseNow(opts.now, ctx.clock);
        input = await openInput(file, ctx.stdin);
      } catch (err) {
        await writeLine(ctx.stderr, openFailureText(locale, 'validate', err));
        ctx.exitCode = EXIT.UNUSABLE;
        return;
      }
      ctx.exitCode = await runValidate({ input, output: ctx.stdout, errors: ctx.stderr, format: opts.format, baseOnly: opts.baseR4, now, locale, validator: ctx.validator() });
    });
}
