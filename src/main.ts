// Service entry: everything is built by startService (config, store, sync, app); here only signals and exit codes.
import { startService } from './service.js';
import { operatorLocale } from './i18n/index.js';
import { startupFailureText } from './startup-text.js';

async function main(): Promise<void> {
  const svc = await startService(process.env);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // close() drains within SHUTDOWN_GRACE_MS and logs "ilp-adapter stopped"; a clean drain exits 0.
    svc.logger.info({ signal }, 'shutting down: new requests get 503, no new deliveries start');
    svc.close().then(
      () => process.exit(0),
      (err: unknown) => {
        svc.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  // One line per configuration mistake, in ILP_LANG; these messages never carry secrets.
  process.stderr.write(`${startupFailureText(err, operatorLocale())}\n`);
  process.exit(1);
});
