// Listening and graceful shutdown, apart from main.ts so tests (and issue 4's startService) can reuse them.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { Logger } from '../util/logger.js';

export interface ListenOptions {
  host: string;
  port: number;
  logger: Logger;
  /** How long in-flight requests may take to finish on shutdown before connections are cut. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  server: Server;
  /** The bound address (port 0 → the port the OS chose). */
  address: AddressInfo;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then resolves. Idempotent. */
  close(): Promise<void>;
}

export function listen(app: express.Express, opts: ListenOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(opts.port, opts.host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      server.on('error', (err) => opts.logger.error({ err }, 'server error'));
      // Bounded request handling: a slow client cannot hold a socket forever.
      server.requestTimeout = 30_000;
      server.headersTimeout = 15_000;
      server.keepAliveTimeout = 5_000;
      let closing: Promise<void> | undefined;
      const close = (): Promise<void> =>
        (closing ??= new Promise<void>((done) => {
          const timer = setTimeout(() => server.closeAllConnections(), opts.shutdownGraceMs ?? 10_000);
          timer.unref();
          // Keep-alive sockets become idle as their last response ends: close them as soon as they do.
          const sweep = setInterval(() => server.closeIdleConnections(), 50);
          sweep.unref();
          server.close(() => {
            clearTimeout(timer);
            clearInterval(sweep);
            done();
          });
          server.closeIdleConnections();
        }));
      resolve({ server, address: server.address() as AddressInfo, close });
    });
  });
}

/** Parses PORT: an integer 0–65535, else a clear error. */
export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`PORT must be an integer between 0 and 65535 (got '${value.slice(0, 20)}')`);
  return n;
}
