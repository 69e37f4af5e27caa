// What `ilp-adapter` (the service) prints when it cannot start, in the operator's language: configuration problems one
// per line, a store refusal (StoreSchemaError, data keys) from its catalogue key; anything else by its own message.
import { ConfigError } from './config/index.js';
import type { Locale } from './i18n/index.js';
import { renderMessage } from './i18n/issues.js';
import { DataKeyConfigError, StoreSchemaError } from './store/index.js';

export function startupFailureText(err: unknown, locale: Locale): string {
  if (err instanceof ConfigError) return `${renderMessage(locale, 'config.frame.config-error')}\n${err.render(locale)}`;
  const ref = err instanceof StoreSchemaError || err instanceof DataKeyConfigError ? err.ref : undefined;
  const reason = ref ? renderMessage(locale, ref.key, ref.params) : err instanceof Error ? err.message : String(err);
  return renderMessage(locale, 'config.frame.failed-to-start', { reason });
}
