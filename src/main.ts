// Service entry: build the validator and tables once, serve on HOST:PORT, log one ready line, stop gracefully.
import { createApp } from './api/app.js';
import { listen, parsePort } from './api/server.js';
import { loadMappingTables } from './mapping/index.js';
import { createValidator } from './validation/index.js';
import { createLogger } from './util/logger.js';

const logger = createLogger();

async function main(): Promise<void> {
  const host = process.env.HOST || '127.0.0.1';
  const port = parsePort(process.env.PORT, 8080);
  const validator = createValidator();
  const tables = loadMappingTables();
  const app = createApp({ validator, tables, logger });
  const running = await listen(app, { host, port, logger });
  logger.info(
    { host, port: running.address.port, startupMs: Math.round(process.uptime() * 1000) },
    `ilp-adapter ready on http://${host}:${running.address.port}`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'failed to start');
  process.exitCode = 1;
});
