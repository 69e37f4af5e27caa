// The console in a real browser (headless Chromium): sign-in with a facility key, a needs-correction record and its
// explanation in Indonesian, requeue, that facility A's key never shows B's data, and the switch to English.
import type { Page } from 'playwright-core';
import { A, B, consoleHarness, KEY, visits, type ConsoleHarness } from '../console/harness.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { toOperationOutcome } from '../../src/validation/outcome.js';
import { describeInBrowser, openBrowser, serve, signIn as signInWith, type OpenBrowser } from './browser.js';

// As sync stores a refusal by our checks: the message kept with the issue, said in the operator's language.
const NEEDS_FIX = toOperationOutcome([messageIssue('error', 'value', 'source.birthdate.after-visit', { path: 'patient.birthDate' }, 'patient.birthDate')], undefined, true).issue;

describeInBrowser('operator console in Chromium', () => {
  let h: ConsoleHarness;
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: OpenBrowser;

  beforeEach(async () => {
    h = consoleHarness();
    await h.failed(A, '2026/10/0001', 'needs-correction', NEEDS_FIX);
    await h.failed(B, 'B-ONLY-0042', 'blocked', [{ severity: 'error', code: 'processing', expression: ['patient.nik'], diagnostics: 'B-ONLY issue' }]);
    await h.push(B, { ...visits(B, 1)[0], visitId: 'B-REJECTED', setting: 'kapal' }).expect(422);
    server = await serve(h.app);
    browser = await openBrowser();
  });
  afterEach(async () => {
    await browser?.close();
    await server?.close();
  });

  const signIn = (page: Page, who: string) => signInWith(page, server.url, KEY[who]!);

  it('signs in with a facility key, shows the needs-correction record explained in Indonesian, and requeues it', async () => {
    const page = await browser.context.newPage();
    await signIn(page, A);
    expect(await page.locator('.who').textContent()).toBe(`Masuk sebagai fasilitas ${A}.`);
    expect(await page.locator('#facilities [data-state="needs-correction"]').textContent()).toBe('1');

    await Promise.all([page.waitForURL(/\/console\/attention$/), page.click('text=Perlu tindakan')]);
    const visit = page.locator('article.visit[data-visit="2026/10/0001"]');
    await visit.waitFor();
    expect(await visit.locator('.state').textContent()).toBe('perlu koreksi');
    expect(await visit.locator('.explanation').textContent()).toContain('perbaiki kolom yang disebut di lastError pada sistem sumber');
    expect(await visit.locator('table.issues td').allTextContents()).toEqual(['patient.birthDate', 'patient.birthDate sesudah tanggal kunjungan; periksa tanggal lahir']);

    await Promise.all([page.waitForURL(/\/console\/attention$/), visit.locator('button.requeue').click()]);
    expect(await page.locator('#flash').textContent()).toContain('Kunjungan 2026/10/0001 diantrekan kembali (sebelumnya perlu koreksi)');
    await page.locator('#none').waitFor();
    expect((await h.store.getVisit(A, '2026/10/0001'))!.state).toBe('queued');
    // The key is in no cookie and no storage the page can read.
    const cookies = await browser.context.cookies();
    expect(cookies.map((c) => c.value).join(' ')).not.toContain(KEY[A]!);
    expect(cookies.find((c) => c.name === 'ilp_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie)).not.toContain(KEY[A]!);
  });

  it("never shows facility B's data to facility A's key", async () => {
    const page = await browser.context.newPage();
    await signIn(page, A);
    for (const path of ['/console', '/console/attention', '/console/rejections']) {
      await page.goto(`${server.url}${path}`);
      await page.locator('h1').waitFor();
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).not.toContain(B);
      expect(text).not.toContain('B-ONLY');
      expect(text).not.toContain('B-REJECTED');
    }
    // The admin sees B's record, so its absence above is the scope and not missing data.
    const admin = await browser.context.newPage();
    await browser.context.clearCookies();
    await signIn(admin, 'admin');
    await admin.goto(`${server.url}/console/attention`);
    await admin.locator('article.visit[data-visit="B-ONLY-0042"]').waitFor();
  });

  it('switches to English and back', async () => {
    const page = await browser.context.newPage();
    await signIn(page, A);
    await Promise.all([page.waitForURL(`${server.url}/console`), page.click('#lang')]);
    expect(await page.locator('h1').textContent()).toBe('Facility overview');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.goto(`${server.url}/console/attention`);
    expect(await page.locator('article.visit .explanation').textContent()).toContain('correct the fields named in lastError at the source');
    expect(await page.locator('article.visit table.issues td').allTextContents()).toEqual(['patient.birthDate', 'patient.birthDate is after the visit date']);
    await Promise.all([page.waitForURL(/\/console\/attention$/), page.click('#lang')]);
    expect(await page.locator('h1').textContent()).toBe('Kunjungan yang perlu tindakan');
  });
});
