// One error type for configuration mistakes: every problem found is listed, each in one line a person can act on.
// A problem is state (a catalogue key under messages/config.json, or any area, and its parameters); `problems` and
// `message` are the English rendering (logs, tests), `render(locale)` says it for the operator at the edge (src/main.ts).
import { AppError, messageExtension } from '../util/app-error.js';
import type { MessageRef } from '../validation/outcome.js';
import type { Locale, Params } from '../i18n/index.js';
import { renderMessage } from '../i18n/issues.js';

export type ConfigProblem = MessageRef;

/** A configuration problem: `config.<key>` from messages/config.json (or `<area>.<key>` when the key has a dot-area of its own). */
export const configProblem = (key: string, params: Params = {}): ConfigProblem => ({ key: `config.${key}`, params: { ...params } });

/** A problem whose text comes from elsewhere already worded (a checker's English sentence): kept as is, in every language. */
export const configText = (text: string, at?: string): ConfigProblem =>
  at === undefined ? configProblem('text', { text }) : configProblem('at-text', { at, text });

/** A problem worded by a checker as a message (a string rule, a URL shape), said after the field it is about, in the reader's language. */
export const atField = (at: string, problem: MessageRef): ConfigProblem => configProblem('at-text', { ...problem.params, at, '@text': problem.key });

const listed = (head: string, lines: string[]): string => `${head}\n  - ${lines.join('\n  - ')}`;

/** AppError kind 'config'; its outcome holds one issue per problem, each with its message. */
export class ConfigError extends AppError {
  /** The problems as state, in the order found. */
  readonly refs: readonly ConfigProblem[];
  /** The problems in English, one line each. */
  readonly problems: string[];
  constructor(problems: ReadonlyArray<ConfigProblem | string>) {
    const refs = problems.map((p) => (typeof p === 'string' ? configText(p) : p));
    const english = refs.map((r) => renderMessage('en', r.key, r.params));
    super('config', listed(renderMessage('en', 'config.frame.invalid'), english), {
      ref: { key: 'config.frame.invalid', params: {} },
      outcome: {
        resourceType: 'OperationOutcome',
        issue: refs.map((r, i) => ({ severity: 'error', code: 'invalid', diagnostics: english[i]!, extension: [messageExtension(r)] })),
      },
    });
    this.refs = refs;
    this.problems = english;
  }

  /** The same list said in `locale`. */
  render(locale: Locale): string {
    return listed(renderMessage(locale, 'config.frame.invalid'), this.refs.map((r) => renderMessage(locale, r.key, r.params)));
  }
}
