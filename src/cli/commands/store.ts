// `ilp-adapter store check`: the full integrity check (PRAGMA integrity_check) of the service database (DATA_DIR /
// DATABASE_URL, or --file), read-only in effect: nothing is migrated or written. Exit 0 sound, 1 problems found,
// 2 the file cannot be checked (missing, empty, not SQLite, another application's, configuration error).
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT, type CliContext } from '../context.js';
import { ConfigError, loadServiceConfig } from '../../config/index.js';
import { checkDatabaseFile, sqliteFileOf, StoreSchemaError } from '../../store/index.js';
import { operatorLocale, type Params } from '../../i18n/index.js';
import { errorText, renderMessage } from '../../i18n/issues.js';

export function storeCommand(ctx: CliContext): Command {
  const store = new Command('store').description('the service database');
  store
    .command('check')
    .description('full integrity check of the database (safe while the service runs)')
    .option('--file <path>', 'the database file (default: DATABASE_URL, else DATA_DIR/ilp-adapter.db)')
    .action((flags: { file?: string }) => {
      const locale = operatorLocale();
      const say = (key: string, params: Params = {}) => renderMessage(locale, `cli.store.${key}`, params);
      const fail = (text: string) => {
        ctx.stderr.write(`ilp-adapter store check: ${text}\n`);
        ctx.exitCode = EXIT.UNUSABLE;
      };
      let file: string | undefined;
      try {
        const cfg = flags.file ? undefined : loadServiceConfig(process.env);
        file = flags.file ?? sqliteFileOf({ ...(cfg?.databaseUrl ? { url: cfg.databaseUrl } : {}), dataDir: cfg?.dataDir });
      } catch (e) {
        return fail(e instanceof ConfigError ? e.render(locale) : say('no-config'));
      }
      if (!file || file === ':memory:') return fail(say('no-file'));
      if (!existsSync(file)) return fail(say('missing', { file }));
      let problems: string[];
      try {
        problems = checkDatabaseFile(file);
      } catch (e) {
        return fail(e instanceof StoreSchemaError ? errorText(e, locale) : say('cannot-open', { file, code: (e as { code?: string }).code ?? 'error' }));
      }
      if (problems.length === 0) {
        ctx.stdout.write(`${say('ok', { file })}\n`);
        ctx.exitCode = EXIT.OK;
        return;
      }
      // SQLite's own words for each problem stay as it wrote them.
      ctx.stdout.write(`${say('problems', { file, count: problems.length })}\n${problems.map((p) => `  ${p}\n`).join('')}`);
      ctx.stdout.write(`${say('recovery')}\n`);
      ctx.exitCode = EXIT.INVALID;
    });
  return store;
}
