// The lines `validate` and `map` say around the issues (item labels, unusable input, unreadable files, bad options), in
// the operator's language (messages/cli.json). Unusable-input issues carry their message key, so an OperationOutcome
// written in JSON says them in --lang too; the validator's own FHIR issues have none and stay English.
import type { Issue } from '../validation/outcome.js';
import type { JsonLimitViolation } from '../util/json-limits.js';
import { LOCALES, type Locale, type Params } from '../i18n/index.js';
import { messageIssue, renderMessage } from '../i18n/issues.js';
import { CliInputError, type InputItem } from './ndjson.js';

/** The parameters that let a message say "line N" / "item N" (`{label}`) in the reader's language. */
const labelParams = (item: InputItem): Params =>
  item.ok && item.index !== undefined ? { '@label': 'cli.label.item', n: item.index } : { '@label': 'cli.label.line', n: item.line };

/** "baris 3" / "line 3" (or "butir 2" / "item 2" for a JSON array element). */
export const itemLabel = (item: InputItem, locale: Locale): string => renderMessage(locale, String(labelParams(item)['@label']), labelParams(item));

/** A fatal issue about one input item, said by cli.<key> with the item's label. */
export const itemIssue = (item: InputItem, code: Issue['code'], key: string, params: Params = {}, expression?: string): Issue =>
  messageIssue('fatal', code, `cli.${key}`, { ...labelParams(item), ...params }, expression);

/** The issue for an item that is not JSON. */
export const notJsonIssue = (item: Extract<InputItem, { ok: false }>): Issue =>
  item.at !== undefined ? itemIssue(item, 'structure', 'unusable.not-json-at', { at: item.at }) : itemIssue(item, 'structure', 'unusable.not-json');

/** The issue for a document over the JSON limits (the limit said in the reader's language when the violation names it). */
export const tooCostlyIssue = (item: InputItem, v: JsonLimitViolation): Issue =>
  v.ref
    ? itemIssue(item, 'too-costly', 'unusable.too-costly', { ...v.ref.params, '@problem': v.ref.key }, v.path)
    : messageIssue('fatal', 'too-costly', 'config.text', { text: v.message }, v.path);

/** One framing line of `command` (cli.<key>). */
export const cliText = (locale: Locale, command: string, key: string, params: Params = {}): string =>
  renderMessage(locale, `cli.${key}`, { command, ...params });

/** Why the input could not be opened, or the --now value is unusable. */
export function openFailureText(locale: Locale, command: string, err: unknown): string {
  if (err instanceof CliInputError) return cliText(locale, command, `input.${err.why}`, { file: err.file });
  return cliText(locale, command, 'option.now');
}

/** The locale --lang names, or undefined for anything else. */
export const localeOption = (value: string): Locale | undefined => ((LOCALES as readonly string[]).includes(value) ? (value as Locale) : undefined);
