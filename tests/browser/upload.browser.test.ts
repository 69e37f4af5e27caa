// The console's spreadsheet upload in a real browser (headless Chromium): a facility key uploads the shipped sample
// register, follows the job page to its summary, uploads it again with one wrong BB and sees the row error in
// Indonesian; facility B's session cannot open A's job page.
import { rmSync } from 'node:fs';
import { A, B, KEY, uploadHarness, type ConsoleHarness } from '../console/harness.js';
import { ROWS, row, SAMPLE, tempDir, writeCsv } from '../import/helpers.js';
import { describeInBrowser, openBrowser, serve, signIn, type OpenBrowser } from './browser.js';

describeInBrowser('console upload in Chromium', () => {
  let dir: string;
  let h: ConsoleHarness;
  let server: Awaited<ReturnType<typeof serve>>;
  let browser: OpenBrowser;

  beforeEach(async () => {
    dir = tempDir('ilp-upload-browser-');
    h = uploadHarness(dir);
    server = await serve(h.app);
    browser = await openBrowser();
  });
  afterEach(async () => {
    await browser?.close();
    await server?.close();
    h.console.imports?.spool.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uploads the sample register, shows the summary and a row error in Indonesian; B's session cannot open A's job", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server.url, KEY[A]!);
    await Promise.all([page.waitForURL(/\/console\/upload$/), page.click('text=Unggah register')]);
    expect(await page.locator('h1').textContent()).toBe('Unggah register Posyandu');

    await page.setInputFiles('#file', SAMPLE);
    await Promise.all([page.waitForURL(/\/console\/imports\/[A-Za-z0-9_-]+$/), page.click('#upload')]);
    const firstJob = page.url();
    // The page refreshes itself (meta refresh) until the job is done; the wait follows it, the test sleeps nowhere.
    await page.locator('#summary').waitFor();
    expect(await page.locator('#summary p').first().textContent()).toBe('Selesai: 3 baris dibaca; diimpor 3 (baru 3, direvisi 0, tidak berubah 0); ditolak 0.');
    expect(await page.locator('#counts [data-count="stored"]').textContent()).toBe('3 disimpan');
    expect((await h.store.counts(A)).byState.queued).toBe(3);

    const wrong = writeCsv(dir, 'register-bb.csv', [ROWS[0]!, row(1, { BB: 'dua belas' }), ROWS[2]!]);
    await page.goto(`${server.url}/console/upload`);
    await page.setInputFiles('#file', wrong);
    await Promise.all([page.waitForURL(/\/console\/imports\//), page.click('#upload')]);
    await page.locator('#summary').waitFor();
    expect(await page.locator('#row-errors li').allTextContents()).toEqual(['baris 3, kolom BB: bukan angka; tulis misalnya 9,8 atau 9.8 tanpa pemisah ribuan']);
    expect(await page.locator('#summary p').first().textContent()).toBe('Selesai: 3 baris dibaca; diimpor 2 (baru 0, direvisi 0, tidak berubah 2); ditolak 1.');
    await Promise.all([page.waitForURL(/\/console\/rejections$/), page.click('#rejections-link')]);
    await page.locator('article.rejection').first().waitFor();

    await browser.context.clearCookies();
    await signIn(page, server.url, KEY[B]!);
    const response = await page.goto(firstJob);
    expect(response?.status()).toBe(404);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toContain('Tidak ditemukan (atau bukan milik fasilitas Anda).');
    expect(text).not.toContain('Selesai');
    expect(text).not.toContain(A);
  });
});
