// `ilp-adapter keys create --org <organizationId> [--label text]`: a new facility API key, printed ONCE; only its sha256
// is stored (in the service database: DATA_DIR / DATABASE_URL). `keys list`: every key by hash prefix, never the key.
// `keys revoke <hash-prefix|label>`: the key stops working at once (auth reads the database on every request).
// `keys hash <key>`: the sha256 to put in API_KEYS_FILE, for a key that passes the key-strength rule.
// `keys rotate-data`: record bodies re-encrypted under the current data key (src/cli/commands/at-rest.ts).
// Texts: messages/keys.json, in ILP_LANG (id by default, en).
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EXIT } from '../context.js';
import { createFacilityKey, hashApiKey, revokeKey, SHOWN_PREFIX } from '../../app/keys.js';
import { loadServiceConfig, ConfigError, parseFacilities, readJsonFile, storeOptionsOf } from '../../config/index.js';
import { keyWeakness } from '../../config/key-strength.js';
import { openStore, sqliteFileOf } from '../../store/index.js';
import type { ApiKeyRow, Store } from '../../store/types.js';
import { messages, operatorLocale, type Params } from '../../i18n/index.js';
import { errorText } from '../../i18n/issues.js';
import { SIMULATOR_FACILITIES_FILE } from '../../config/index.js';
import { rotateDataCommand } from './at-rest.js';

const catalogue = messages('keys');

/** Runs `use` on the service database (opened from the environment like the service does) and closes it. */
async function withServiceStore<T>(use: (store: Store, database: string) => Promise<T>): Promise<T> {
  const cfg = loadServiceConfig(process.env);
  const options = storeOptionsOf(cfg);
  const store = await openStore(options);
  try {
    // Named for the operator: the SQLite file, or only "PostgreSQL" (the URL may carry a password).
    return await use(store, sqliteFileOf(options) ?? 'PostgreSQL');
  } finally {
    await store.close();
  }
}

/** The organizations of the facilities file (the sample facility's in sandbox-simulator mode). */
function configuredOrganizations(): { file: string; orgs: string[] } {
  const file = loadServiceConfig(process.env).facilitiesFile ?? SIMULATOR_FACILITIES_FILE;
  return { file, orgs: parseFacilities(readJsonFile(file, 'FACILITIES_FILE'), file).map((f) => f.organizationId) };
}

const iso = (ms: number | undefined, t: (key: string) => string): string => (ms === undefined ? t('list.unknown-time') : new Date(ms).toISOString());

export function keysCommand(ctx: CliContext): Command {
  const locale = operatorLocale(process.env);
  const t = (key: string, params?: Params) => catalogue(locale, key, params);
  const fail = (text: string, code: number = EXIT.UNUSABLE) => {
    ctx.stderr.write(`${text}\n`);
    ctx.exitCode = code;
  };
  /** Runs a subcommand, turning configuration and storage failures into exit 2 with the reason. */
  const guarded = <A extends unknown[]>(run: (...args: A) => Promise<void> | void) => async (...args: A) => {
    try {
      await run(...args);
    } catch (e) {
      fail(e instanceof ConfigError ? e.render(locale) : t('failed', { reason: errorText(e, locale) }));
    }
  };
  const labelOf = (row: ApiKeyRow) => row.label ?? t('no-label');

  const keys = new Command('keys').description('facility API keys (stored as sha256 only)');
  keys
    .command('create')
    .description('create a facility API key; prints it once')
    .requiredOption('--org <organizationId>', 'the SATUSEHAT Organization id the key may push and read (one of the facilities file)')
    .option('--label <text>', 'who uses the key (e.g. the SIMPUS of Puskesmas X)')
    .action(guarded(async (flags: { org: string; label?: string }) => {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(flags.org)) return fail(t('org.format'));
      const { file, orgs } = configuredOrganizations();
      if (!orgs.includes(flags.org)) return fail(t('org.unknown', { org: flags.org, file, configured: orgs.join(', ') }));
      const { key, database } = await withServiceStore(async (store, db) => ({
        key: await createFacilityKey(store, { organizationId: flags.org, ...(flags.label ? { label: flags.label } : {}), at: ctx.clock().getTime() }),
        database: db,
      }));
      ctx.stdout.write(`${key}\n`);
      ctx.stderr.write(`${t('create.stored', { org: flags.org, label: flags.label ?? t('no-label'), database })}\n`);
    }));
  keys
    .command('list')
    .description('list the keys: hash prefix, organization, source, created, revoked, label (never the key)')
    .option('--json', 'one JSON object per key')
    .action(guarded(async (flags: { json?: boolean }) => {
      await withServiceStore(async (store, database) => {
        const rows = await store.listApiKeys();
        if (flags.json) {
          for (const r of rows) {
            ctx.stdout.write(`${JSON.stringify({
              hashPrefix: r.keyHash.slice(0, SHOWN_PREFIX), organizationId: r.organizationId, role: r.role, source: r.source,
              ...(r.label ? { label: r.label } : {}),
              ...(r.createdAt !== undefined ? { createdAt: new Date(r.createdAt).toISOString() } : {}),
              ...(r.revokedAt !== undefined ? { revokedAt: new Date(r.revokedAt).toISOString() } : {}),
            })}\n`);
          }
          return;
        }
        if (!rows.length) return void ctx.stderr.write(`${t('list.empty', { database })}\n`);
        ctx.stdout.write(`${t('list.header')}\n`);
        for (const r of rows) {
          const revoked = r.revokedAt === undefined ? t('list.active') : new Date(r.revokedAt).toISOString();
          ctx.stdout.write(`${[r.keyHash.slice(0, SHOWN_PREFIX), (r.organizationId ?? r.role).padEnd(10), (r.source ?? 'cli').padEnd(6),
            iso(r.createdAt, t).padEnd(24), revoked.padEnd(24), labelOf(r)].join('  ')}\n`);
        }
      });
    }));
  keys
    .command('revoke <hash-prefix|label>')
    .description('revoke a key: it stops working at once on every instance that uses this database')
    .action(guarded(async (query: string) => {
      await withServiceStore(async (store, database) => {
        const q = query.trim();
        const result = await revokeKey(store, q, ctx.clock().getTime());
        if (result.status === 'none') return fail(t('revoke.none', { query: q, database }));
        if (result.status === 'already') return fail(t('revoke.already', { prefix: result.row.keyHash.slice(0, SHOWN_PREFIX), at: iso(result.row.revokedAt, t) }), EXIT.INVALID);
        if (result.status === 'ambiguous') {
          return fail(t('revoke.ambiguous', { count: result.rows.length, query: q, prefixes: result.rows.map((r) => r.keyHash.slice(0, SHOWN_PREFIX)).join(', ') }));
        }
        const row = result.row;
        ctx.stdout.write(`${t('revoke.done', { prefix: row.keyHash.slice(0, SHOWN_PREFIX), org: row.organizationId ?? row.role, label: labelOf(row), database })}\n`);
        if (row.source === 'file') ctx.stderr.write(`${t('revoke.file-key')}\n`);
      });
    }));
  keys
    .command('hash <key>')
    .description('print the sha256 of a key (for API_KEYS_FILE); a guessable key is refused')
    .action((key: string) => {
      const weakness = keyWeakness(key);
      if (weakness) return fail(t(`weak.${weakness}`, { name: 'key' }));
      ctx.stdout.write(`${hashApiKey(key)}\n`);
    });
  keys.addCommand(rotateDataCommand(ctx));
  return keys;
}
