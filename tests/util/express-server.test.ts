import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createExpressServer } from '../../src/util/express-server.js';
import { listen } from '../../src/api/server.js';
import { logCapture } from '../api/helpers.js';

/** What the server's objects were when Node handed them over, before Express saw them. */
function watchArrivals(server: http.Server, app: express.Express): Array<{ request: boolean; response: boolean; node: boolean }> {
  const seen: Array<{ request: boolean; response: boolean; node: boolean }> = [];
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({
      request: Object.getPrototypeOf(req) === app.request,
      response: Object.getPrototypeOf(res) === app.response,
      node: req instanceof http.IncomingMessage && res instanceof http.ServerResponse,
    });
  });
  return seen;
}

function echoApp(): express.Express {
  const app = express();
  app.post('/echo', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.status(201).set('X-Seen', req.get('x-probe') ?? '').json({ body: Buffer.concat(chunks).toString('utf8') }));
  });
  return app;
}

describe('createExpressServer', () => {
  it('hands Express request and response objects that already have the app’s prototypes, and the app answers as before', async () => {
    const app = echoApp();
    const server = createExpressServer(app);
    const seen = watchArrivals(server, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const text of ['first', 'second on the same keep-alive socket']) {
        const r = await fetch(`${base}/echo`, { method: 'POST', body: text, headers: { 'x-probe': 'p' } });
        expect({ status: r.status, seen: r.headers.get('x-seen'), body: await r.json() }).toEqual({ status: 201, seen: 'p', body: { body: text } });
      }
      expect(seen).toEqual([{ request: true, response: true, node: true }, { request: true, response: true, node: true }]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is what the service listens with (listen), so its routes never get a prototype changed per request', async () => {
    const app = echoApp();
    const running = await listen(app, { host: '127.0.0.1', port: 0, logger: logCapture().logger });
    const seen = watchArrivals(running.server, app);
    try {
      const r = await fetch(`http://127.0.0.1:${running.address.port}/echo`, { method: 'POST', body: 'x' });
      expect(r.status).toBe(201);
      expect(seen).toEqual([{ request: true, response: true, node: true }]);
    } finally {
      await running.close(0);
    }
  });
});
