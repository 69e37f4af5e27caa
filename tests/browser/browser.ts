// A real browser for the console tests: Debian's Chromium driven by playwright-core, one fresh profile per use, and
// the console harness served on a loopback port. Without /usr/bin/chromium the browser tests are skipped and say so;
// REQUIRE_BROWSER=1 (CI) turns that skip into a failure.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type express from 'express';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const browserPresent = existsSync(CHROMIUM);

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * `describe` when the browser is there; otherwise a skipped block announced on stderr, or (REQUIRE_BROWSER=1) a failing
 * test naming the missing executable.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (browserPresent) return describe(name, body);
  if (process.env.REQUIRE_BROWSER === '1') {
    return describe(name, () => it(`needs ${CHROMIUM} (REQUIRE_BROWSER=1)`, () => {
      throw new Error(`browser tests cannot run: ${CHROMIUM} is missing (apt-get install -y chromium)`);
    }));
  }
  process.stderr.write(`\n*** SKIPPED: browser tests "${name}": ${CHROMIUM} is missing (apt-get install -y chromium; CI sets REQUIRE_BROWSER=1) ***\n\n`);
  describe.skip(name, body);
}

export interface OpenBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a new empty profile (its own cookies), removed on close. */
export async function openBrowser(): Promise<OpenBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'console-browser-'));
  // launchPersistentContext is how playwright takes --user-data-dir; `headless` adds --headless.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, locale: 'id-ID' });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Serves an app on a loopback port. */
export async function serve(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // A test may leave a connection half open on purpose (an upload cut off mid-body): close() must not wait on it.
    close: () => new Promise<void>((resolve, reject) => {
      server.close((e) => (e ? reject(e) : resolve()));
      server.closeAllConnections();
    }),
  };
}

/** Signs in on the console's login page with this key and waits for the overview. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/console`);
  await page.fill('#apiKey', key);
  await Promise.all([page.waitForURL(`${baseUrl}/console`), page.click('#login')]);
  await page.locator('#facilities').waitFor();
}
