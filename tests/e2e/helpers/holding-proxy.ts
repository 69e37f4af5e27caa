// An HTTP hop between a service process and the simulator that can freeze the service mid-sync on demand: once
// `holdWhen()` holds, each transaction is still forwarded (the platform commits it) but its answer is kept from the
// service, so every worker ends up waiting on a committed, unrecorded transaction. A kill then lands mid-sync
// because of what happened, not because of how fast either process ran.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  url: string;
  /** Committed transactions (2xx at the simulator) whose answer the service never got. */
  readonly held: number;
  /** Forward everything again (for the restarted service); answers kept so far are dropped with their sockets. */
  pass(): void;
  close(): Promise<void>;
}

const isTransaction = (req: http.IncomingMessage) => req.method === 'POST' && /^\/fhir-r4\/v1\/?$/.test((req.url ?? '').split('?')[0]!);

export async function startHoldingProxy(target: string, holdWhen: () => boolean): Promise<HoldingProxy> {
  const upstream = new URL(target);
  let holding = false;
  let passing = false;
  let held = 0;
  const kept: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (!passing && !holding && holdWhen()) holding = true;
    const hold = holding && !passing && isTransaction(req);
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (hold && answer.statusCode! >= 200 && answer.statusCode! < 300) {
        answer.resume();
        answer.on('end', () => held++);
        kept.push(res);
        return;
      }
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy()); // a simulator "lost response" stays a lost response
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return held;
    },
    pass() {
      passing = true;
      for (const res of kept.splice(0)) res.destroy();
    },
    close: () => {
      for (const res of kept.splice(0)) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
