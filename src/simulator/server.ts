// Runs the simulator on a real HTTP port (0 → a free one), loopback by default.
import type { AddressInfo } from 'node:net';
import { createExpressServer } from '../util/express-server.js';
import { AUTH_PATH, FHIR_PATH, createSimulator, type SimulatorState } from './app.js';
import type { SimulatorOptions } from './options.js';

export interface RunningSimulator {
  url: string;
  authBaseUrl: string;
  fhirBaseUrl: string;
  state: SimulatorState;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions & { port?: number; host?: string } = {}): Promise<RunningSimulator> {
  const { port = 0, host = '127.0.0.1', ...simOpts } = opts;
  const sim = createSimulator(simOpts);
  await sim.ready; // fail at start, not at the first request, when the validator cannot be loaded
  const server = createExpressServer(sim.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${hostPart}:${addr.port}`;
  return {
    url,
    authBaseUrl: `${url}${AUTH_PATH}`,
    fhirBaseUrl: `${url}${FHIR_PATH}`,
    state: sim.state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        sim.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
