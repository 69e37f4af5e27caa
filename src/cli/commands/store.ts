// `ilp-adapter store check`: the full integrity check (PRAGMA integrity_check) of the service database (DATA_DIR /
// DATABASE_URL, or --file), read-only in effect: nothing is migrated or written. Exit 0 sound, 1 problems found,
// 2 the file cannot be checked (missing, empty, not SQLite, another application's, configuration error).
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT, type CliContext } from '../context.js';
import { ConfigError, loadServiceConfig } from '../../config/index.js';
import { checkDatabaseFile, sqliteFileOf, StoreSchemaError } from '../../store/index.js';
import { operatorLocale } from '../../i18n/index.js';
import { renderRef } from '../../i18n/issues.js';

export function storeCommand(ctx: CliContext): Command {
  const store = new Command('store').description('the service database');
  store
    .command('check')
    .description('full integrity check of the database (safe while the service runs)')
    .option('--file <path>', 'the database file (default: DATABASE_URL, else DATA_DIR/ilp-adapter.db)')
    .action((flags: { file?: string }) => {
      const fail = (text: string) => {
        ctx.stderr.write(`ilp-adapter store check: ${text}\n`);
        ctx.exitCode = EXIT.UNUSABLE;
      };
      let file: string | undefined;
      try {
        const cfg = flags.file ? undefined : loadServiceConfig(process.env);
        file = flags.file ?? sqliteFileOf({ ...(cfg?.databaseUrl ? { url: cfg.databaseUrl } : {}), dataDir: cfg?.dataDir });
      } catch (e) {
        return fail(e instanceof ConfigError ? e.render(operatorLocale()) : 'cannot read the configuration');
      }
      if (!file || file === ':memory:') return fail('no database file is configured (DATABASE_URL is not a sqlite:<file> URL)');
      if (!existsSync(file)) return fail(`${file} does not exist`);
      let problems: string[];
      try {
        problems = checkDatabaseFile(file);
      } catch (e) {
        return fail(e instanceof StoreSchemaError ? (e.ref ? renderRef(operatorLocale(), e.ref) : e.message) : `cannot open ${file} (${(e as { code?: string }).code ?? 'error'})`);
      }
      if (problems.length === 0) {
        ctx.stdout.write(`${file}: ok\n`);
        ctx.exitCode = EXIT.OK;
        return;
      }
      ctx.stdout.write(`${file}: ${problems.length} problem(s) found by PRAGMA integrity_check\n${problems.map((p) => `  ${p}\n`).join('')}`);
      ctx.stdout.write('Restore the database from backup (with the service stopped), or move the file away to start with an empty store on purpose.\n');
      ctx.exitCode = EXIT.INVALID;
    });
  return store;
}
