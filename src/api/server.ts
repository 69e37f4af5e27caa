// Listening and graceful shutdown, apart from main.ts so tests (and issue 4's startService) can reuse them.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { Logger } from '../util/logger.js';
import { LOCALES, negotiateLocale } from '../i18n/index.js';
import { renderMessage } from '../i18n/issues.js';
import { createExpressServer } from '../util/express-server.js';

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
  /**
   * Starts draining: from now on every request is answered 503 with Retry-After and `Connection: close` (nothing is
   * accepted), which closes each keep-alive connection after its next answer; the listener stays open so that clients
   * and load balancers get an answer instead of a refused connection or a reset. Idempotent.
   */
  drain(retryAfterSeconds?: number): void;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`, default the listen grace), then resolves. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

// Built once per language: while draining, answering must cost nothing.
const DRAINING_OUTCOME = new Map(LOCALES.map((locale) => [locale, JSON.stringify({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'transient', diagnostics: renderMessage(locale, 'api.shutting-down') }],
})]));

export function listen(app: express.Express, opts: ListenOptions): Promise<RunningServer> {
  let draining: { retryAfter: string } | undefined;
  const server = createExpressServer(app, (req, res) => {
    if (!draining) {
      app(req, res);
      return;
    }
    // The body is not read: the socket is closed after this answer anyway.
    res.writeHead(503, { 'Content-Type': 'application/fhir+json', 'Retry-After': draining.retryAfter, Connection: 'close', Vary: 'Accept-Language' });
    res.end(DRAINING_OUTCOME.get(negotiateLocale(req.headers['accept-language'])));
  });
  return new Promise((resolve, reject) => {
    server.listen(opts.port, opts.host);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      server.on('error', (err) => opts.logger.error({ err }, 'server error'));
      // Bounded request handling: a slow client cannot hold a socket forever.
      server.requestTimeout = 30_000;
      server.headersTimeout = 15_000;
      server.keepAliveTimeout = 5_000;
      let sweep: NodeJS.Timeout | undefined;
      // Keep-alive sockets become idle as their last response ends: close them as soon as they do.
      const sweepIdle = () => {
        server.closeIdleConnections();
        sweep ??= setInterval(() => server.closeIdleConnections(), 50);
        sweep.unref();
      };
      const drain = (retryAfterSeconds = 5): void => {
        if (draining) return;
        // Idle keep-alive sockets are not cut here: a client may be sending on one right now (it would see a reset);
        // close() cuts what is left.
        draining = { retryAfter: String(Math.max(1, Math.ceil(retryAfterSeconds))) };
      };
      let closing: Promise<void> | undefined;
      const close = (graceMs = opts.shutdownGraceMs ?? 10_000): Promise<void> =>
        (closing ??= new Promise<void>((done) => {
          const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, graceMs));
          timer.unref();
          server.close(() => {
            clearTimeout(timer);
            clearInterval(sweep);
            done();
          });
          sweepIdle();
        }));
      resolve({ server, address: server.address() as AddressInfo, drain, close });
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
