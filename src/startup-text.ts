// What `ilp-adapter` (the service) prints when it cannot start, in the operator's language: configuration problems one
// per line, a store refusal (StoreSchemaError, data keys) or storage failure from its catalogue key; anything else by its
// own message.
import { ConfigError } from './config/index.js';
import type { Locale } from './i18n/index.js';
import { errorText, renderMessage } from './i18n/issues.js';

export function startupFailureText(err: unknown, locale: Locale): string {
  if (err instanceof ConfigError) return `${renderMessage(locale, 'config.frame.config-error')}\n${err.render(locale)}`;
  return renderMessage(locale, 'config.frame.failed-to-start', { reason: errorText(err, locale) });
}
