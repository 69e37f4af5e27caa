// Not a test of behaviour: `npm run screenshots` renders the console's login, overview, attention, upload and import pages, with
// sample data on the fixed harness clock, into docs/screenshots/ for the README. It needs /usr/bin/chromium.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { A, B, KEY, NOW, uploadHarness, visits } from '../console/harness.js';
import { ROWS, row, tempDir, writeCsv } from '../import/helpers.js';
import { checkVisit } from '../../src/mapping/index.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome, type Issue } from '../../src/validation/outcome.js';
import { NOW as MAP_NOW, sample, tables } from '../mapping/helpers.js';
import { CHROMIUM, browserPresent, openBrowser, serve, signIn as signInWith } from '../browser/browser.js';

const OUT = path.resolve('docs/screenshots');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

it('writes docs/screenshots/{login,overview,attention,upload,import}.png', async () => {
  if (!browserPresent) throw new Error(`screenshots need ${CHROMIUM} (apt-get install -y chromium)`);
  const spool = tempDir('ilp-screenshots-');
  const h = uploadHarness(spool);
  // The issues real records get (the mapper's checks, the identity resolver's refusal), not texts written for the picture,
  // stored with their messages as sync stores them, so the console says them in the session's language.
  const bad = sample('toddler-growth-monitoring');
  bad.patient.birthDate = '2026-11-02';
  bad.measurements![0]!.value = 310;
  const sourceErrors = checkVisit(bad, tables, { now: MAP_NOW }).filter((i) => i.severity === 'error');
  const stored = (issues: Issue[]) => toOperationOutcome(issues, undefined, true).issue;
  await h.failed(A, '2026/10/0001', 'needs-correction', stored(sourceErrors));
  await h.failed(A, '2026/10/0002', 'blocked', stored([messageIssue('error', 'not-found', 'sync.patient.nik-not-created', {}, 'patient.nik')]));
  await h.failed(B, 'KUNJ-0917', 'dead-letter', []);
  await h.push(A, visits(A, 3)).expect(202);
  await h.push(B, visits(B, 2)).expect(202);
  await h.store.putFacilityState({ organizationId: B, status: 'paused', cause: 'operator', reason: 'paused by an operator', updatedAt: NOW.getTime() });
  h.setNow(NOW.getTime() + 3 * 3_600_000 + 20 * 60_000);

  const server = await serve(h.app);
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    const shot = async (name: string) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
    await page.goto(`${server.url}/console`);
    await shot('login');
    const signIn = (who: string) => signInWith(page, server.url, KEY[who]!);
    await signIn('admin');
    await shot('overview');
    await browser.context.clearCookies();
    await signIn(A);
    await page.goto(`${server.url}/console/attention`);
    await page.locator('article.visit').first().waitFor();
    await shot('attention');
    // The sample register with two cells as a data officer might mistype them, through the real upload.
    const register = writeCsv(spool, 'register-posyandu-mawar.csv', [ROWS[0]!, row(1, { BB: '12.1.0' }), row(2, { 'Cara Ukur': 'duduk' })]);
    await page.goto(`${server.url}/console/upload`);
    await page.setInputFiles('#file', register);
    await shot('upload');
    await Promise.all([page.waitForURL(/\/console\/imports\//), page.click('#upload')]);
    await page.locator('#summary').waitFor();
    await shot('import');
  } finally {
    await browser.close();
    await server.close();
    h.console.imports?.spool.dispose();
    rmSync(spool, { recursive: true, force: true });
  }
  for (const name of ['login', 'overview', 'attention', 'upload', 'import']) expect(readFileSync(path.join(OUT, `${name}.png`)).subarray(0, 4)).toEqual(PNG_SIGNATURE);
});
