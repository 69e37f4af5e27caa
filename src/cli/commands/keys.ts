// `ilp-adapter keys create --org <organizationId> [--label text]`: a new facility API key, printed ONCE; only its sha256
// is stored (in the service database: DATA_DIR / DATABASE_URL). `ilp-adapter keys hash <key>`: the sha256 to put in
// API_KEYS_FILE.
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { generateApiKey, hashApiKey } from '../../api/auth.js';
import { loadServiceConfig, ConfigError } from '../../config/index.js';
import { openStore } from '../../store/index.js';

export function keysCommand(ctx: CliContext): Command {
  const keys = new Command('keys').description('facility API keys (stored as sha256 only)');
  keys
    .command('create')
    .description('create a facility API key; prints it once')
    .requiredOption('--org <organizationId>', 'the SATUSEHAT Organization id the key may push and read')
    .option('--label <text>', 'who uses the key (e.g. the SIMPUS of Puskesmas X)')
    .action((flags: { org: string; label?: string }) => {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(flags.org)) {
        ctx.stderr.write('ilp-adapter keys: --org must be a SATUSEHAT Organization id (letters, digits, -)\n');
        ctx.exitCode = 2;
        return;
      }
      try {
        const cfg = loadServiceConfig(process.env);
        const store = openStore({ ...(cfg.databaseUrl ? { url: cfg.databaseUrl } : {}), dataDir: cfg.dataDir });
        const key = generateApiKey();
        try {
          store.putApiKey({ keyHash: hashApiKey(key), organizationId: flags.org, role: 'facility', ...(flags.label ? { label: flags.label } : {}) });
        } finally {
          store.close();
        }
        ctx.stdout.write(`${key}\n`);
        ctx.stderr.write(`Stored the sha256 of a new API key for organization ${flags.org}. The key above is shown only once.\n`);
      } catch (e) {
        ctx.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `ilp-adapter keys: ${e instanceof Error ? e.message : 'failed'}\n`);
        ctx.exitCode = 2;
      }
    });
  keys
    .command('hash <key>')
    .description('print the sha256 of a key (for API_KEYS_FILE)')
    .action((key: string) => {
      ctx.stdout.write(`${hashApiKey(key)}\n`);
    });
  return keys;
}
