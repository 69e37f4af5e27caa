// The operator console over HTTP: sign-in and sessions, CSRF, escaping, facility isolation, admin-only actions.
import { createHash } from 'node:crypto';
import { AuthThrottle } from '../../src/api/auth-throttle.js';
import { hashApiKey } from '../../src/api/auth.js';
import { SessionStore } from '../../src/console/sessions.js';
import { StorageError } from '../../src/store/storage-error.js';
import { CONTENT_SECURITY_POLICY, SESSION_COOKIE } from '../../src/console/router.js';
import { facilityConfig } from '../queries/harness.js';
import { A, B, consoleHarness, csrfOf, KEY, NOW, visits } from './harness.js';

const NEEDS_FIX = [{ severity: 'error' as const, code: 'value' as const, expression: ['patient.birthDate'], diagnostics: 'birthDate: tanggal lahir setelah tanggal kunjungan' }];

const sessionCookie = (setCookie: string[] | string | undefined) => [setCookie ?? []].flat().find((c) => c.startsWith(`${SESSION_COOKIE}=`));

describe('console sign-in and sessions', () => {
  it('shows the login page in Bahasa Indonesia by default, with a strict CSP and no script', async () => {
    const h = consoleHarness();
    const res = await h.agent().get('/console').expect(200).expect('Content-Type', /text\/html/);
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<html lang="id">');
    expect(res.text).toContain('Kunci API');
    expect(res.text).not.toMatch(/<script|\son\w+=/i);
    const css = await h.agent().get('/console/console.css').expect(200).expect('Content-Type', /text\/css/);
    expect(css.text).toContain('body{');
  });

  it('turns the key in the POST body into a session cookie (HttpOnly, SameSite=Strict, never the key) and signs out', async () => {
    const h = consoleHarness();
    const a = h.agent();
    const login = await a.post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(303);
    const cookie = sessionCookie(login.headers['set-cookie'])!;
    expect(cookie).toMatch(/; Path=\/console; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(KEY[A]!);
    expect(cookie).not.toContain('Secure'); // plain http here; Secure when the request came over https
    const proxied = await h.agent().post('/console/login').set('X-Forwarded-Proto', 'https').type('form').send({ apiKey: KEY[A] }).expect(303);
    expect(sessionCookie(proxied.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    await h.console.sessions.destroy(/^ilp_console=([^;]+)/.exec(sessionCookie(proxied.headers['set-cookie'])!)![1]);
    const overview = await a.get('/console').expect(200);
    expect(overview.text).toContain(`Masuk sebagai fasilitas ${A}.`);
    expect(overview.text).not.toContain(KEY[A]!);
    expect(await h.console.sessions.count()).toBe(1);

    const out = await a.post('/console/logout').type('form').send({ _csrf: csrfOf(overview.text) }).expect(303);
    expect(sessionCookie(out.headers['set-cookie'])).toMatch(/^ilp_console=; .*Max-Age=0/);
    expect(await h.console.sessions.count()).toBe(0);
    // The old cookie value is worthless now.
    await h.agent().get('/console/attention').set('Cookie', cookie.split(';')[0]!).expect(401);
  });

  it('refuses a wrong key (401 with the login page) and counts it against the auth throttle (429 once blocked)', async () => {
    const h = consoleHarness({ throttle: new AuthThrottle({ failuresPerMinute: 2 }) });
    const a = h.agent();
    for (let i = 0; i < 2; i++) {
      const res = await a.post('/console/login').type('form').send({ apiKey: `wrong-key-${i}-0123456789` }).expect(401);
      expect(res.text).toContain('Kunci API tidak dikenal atau sudah dicabut.');
      expect(sessionCookie(res.headers['set-cookie'])).toBeUndefined();
    }
    const blocked = await a.post('/console/login').type('form').send({ apiKey: 'wrong-key-3-0123456789' }).expect(429);
    expect(blocked.text).toMatch(/Terlalu banyak kunci salah dari alamat ini: coba lagi dalam \d+ detik/);
    // Blocked means blocked: the right key is not looked at either.
    await a.post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(429);
    await a.post('/console/login').type('form').send({}).expect(429);
  });

  it('ends a session after the idle time (injected clock) and keeps a used one alive', async () => {
    const h = consoleHarness({ idleMs: 60_000 });
    const a = await h.signIn(A);
    h.setNow(NOW.getTime() + 59_000);
    await a.get('/console/attention').expect(200);
    h.setNow(NOW.getTime() + 118_000); // 59 s after the last use
    await a.get('/console/attention').expect(200);
    h.setNow(NOW.getTime() + 178_001); // 60.001 s after the last use
    const expired = await a.get('/console/attention').expect(401);
    expect(expired.text).toContain('Sesi Anda berakhir. Silakan masuk lagi.');
    expect(await h.console.sessions.count()).toBe(0);
  });

  it('ends the sessions of a key revoked after sign-in', async () => {
    const h = consoleHarness();
    const a = h.agent();
    const key = 'stored-key-of-a-0123456789abcdef';
    const { hashApiKey } = await import('../../src/api/auth.js');
    await h.store.putApiKey({ keyHash: hashApiKey(key), role: 'facility', organizationId: A, createdAt: NOW.getTime(), source: 'cli' } as never);
    await a.post('/console/login').type('form').send({ apiKey: key }).expect(303);
    await a.get('/console/attention').expect(200);
    await h.store.revokeApiKey(hashApiKey(key), NOW.getTime());
    await a.get('/console/attention').expect(401);
  });

  it('keeps the session in the store under the hash of its id: another instance (or a restart) reads it, the id itself opens nothing', async () => {
    const h = consoleHarness();
    const a = h.agent();
    const login = await a.post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(303);
    const id = /^ilp_console=([^;]+)/.exec(sessionCookie(login.headers['set-cookie'])!)![1]!;
    expect(await h.store.getConsoleSession(id, 60_000, 30_000, NOW.getTime())).toBeUndefined();
    const kept = await h.store.getConsoleSession(createHash('sha256').update(id).digest('hex'), 60_000, 30_000, NOW.getTime());
    expect(kept).toMatchObject({ keyHash: hashApiKey(KEY[A]!) });
    // A second console over the same store, as another instance has: the same session, the same CSRF token.
    const other = new SessionStore(h.store, () => NOW.getTime());
    expect((await other.get(id))!.csrf).toBe(csrfOf((await a.get('/console').expect(200)).text));
    await other.destroy(id);
    await a.get('/console/attention').expect(401);
  });

  it('shows a flash once, wherever the next page is read', async () => {
    const h = consoleHarness();
    const a = await h.signIn('admin');
    const token = csrfOf((await a.get('/console').expect(200)).text);
    await a.post('/console/facilities/pause').type('form').send({ _csrf: token, organizationId: A }).expect(303);
    expect((await a.get('/console').expect(200)).text).toContain('id="flash"');
    expect((await a.get('/console').expect(200)).text).not.toContain('id="flash"');
  });

  it('answers a storage failure while reading the session with the 503 storage answer, never a crash', async () => {
    const h = consoleHarness();
    const a = await h.signIn(A);
    const read = h.store.getConsoleSession;
    h.store.getConsoleSession = () => Promise.reject(new StorageError('SQLITE_IOERR', 'io', true));
    const res = await a.get('/console/attention').expect(503);
    expect(res.headers['retry-after']).toBe('30');
    await a.post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(303); // sign-in writes, it does not read
    h.store.createConsoleSession = () => Promise.reject(new StorageError('SQLITE_FULL', 'full', true));
    await h.agent().post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(503);
    h.store.getConsoleSession = read;
    await a.get('/console/attention').expect(200);
  });

  it('answers pages and forms without a session with 401 and the login page', async () => {
    const h = consoleHarness();
    for (const path of ['/console/attention', '/console/rejections']) {
      const res = await h.agent().get(path).expect(401);
      expect(res.text).toContain('Silakan masuk terlebih dahulu.');
    }
    await h.agent().post('/console/requeue').type('form').send({ organizationId: A, visitId: 'X' }).expect(401);
    await h.agent().post('/console/facilities/pause').type('form').send({ organizationId: A }).expect(401);
  });
});

describe('console pages', () => {
  it('lists a needs-correction record with its explanation and field issues, and requeues it (CSRF required)', async () => {
    const h = consoleHarness();
    await h.failed(A, '2026/10/0001', 'needs-correction', NEEDS_FIX);
    const a = await h.signIn(A);
    const page = await a.get('/console/attention').expect(200);
    expect(page.text).toContain('2026/10/0001');
    expect(page.text).toContain('perlu koreksi');
    expect(page.text).toContain('perbaiki kolom yang disebut di lastError pada sistem sumber');
    expect(page.text).toContain('<code>patient.birthDate</code>');
    expect(page.text).toContain('tanggal lahir setelah tanggal kunjungan');

    // Without the token, or with another session's token: refused, nothing changed.
    await a.post('/console/requeue').type('form').send({ organizationId: A, visitId: '2026/10/0001' }).expect(403);
    const other = await h.signIn(A);
    const otherToken = csrfOf((await other.get('/console').expect(200)).text);
    const refused = await a.post('/console/requeue').type('form').send({ _csrf: otherToken, organizationId: A, visitId: '2026/10/0001' }).expect(403);
    expect(refused.text).toContain('Formulir ini kedaluwarsa');
    expect((await h.store.getVisit(A, '2026/10/0001'))!.state).toBe('needs-correction');

    await a.post('/console/requeue').type('form').send({ _csrf: csrfOf(page.text), organizationId: A, visitId: '2026/10/0001' }).expect(303).expect('Location', '/console/attention');
    expect((await h.store.getVisit(A, '2026/10/0001'))!.state).toBe('queued');
    const after = await a.get('/console/attention').expect(200);
    expect(after.text).toContain('Kunjungan 2026/10/0001 diantrekan kembali (sebelumnya perlu koreksi)');
    expect(after.text).toContain('Tidak ada kunjungan yang perlu tindakan.');
  });

  it('shows the overview with counts, oldest backlog and status, and never a NIK or a name', async () => {
    const h = consoleHarness();
    await h.failed(A, 'V-FIX', 'blocked', NEEDS_FIX);
    const pushed = visits(A, 2);
    await h.push(A, pushed).expect(202);
    h.setNow(NOW.getTime() + 2 * 3_600_000 + 5 * 60_000);
    const a = await h.signIn(A);
    const page = (await a.get('/console').expect(200)).text;
    expect(page).toMatch(/<td class="num" data-state="queued">2<\/td>/);
    expect(page).toMatch(/<td class="num" data-state="blocked">1<\/td>/);
    expect(page).toContain('2 jam 5 menit');
    expect(page).toContain('Aktif: kunjungan dikirim sesuai jadwal.');
    expect(page).not.toContain(`data-org="${B}"`);
    for (const path of ['/console', '/console/attention', '/console/rejections']) {
      const text = (await a.get(path).expect(200)).text;
      for (const v of pushed) {
        expect(text).not.toContain(v.patient.nik);
        expect(text).not.toContain(v.patient.name);
      }
    }
  });

  it('lists the rejections of the last days with their issues, not older ones', async () => {
    const h = consoleHarness();
    await h.push(A, { ...visits(A, 1)[0], visitId: 'REJ-1', setting: 'kapal' }).expect(422);
    const a = await h.signIn(A);
    const page = (await a.get('/console/rejections').expect(200)).text;
    expect(page).toContain('Penolakan 7 hari terakhir');
    expect(page).toContain('REJ-1');
    expect(page).toContain('<code>setting</code>');
    h.setNow(NOW.getTime() + 8 * 86_400_000);
    const a2 = await h.signIn(A);
    expect((await a2.get('/console/rejections').expect(200)).text).toContain('Tidak ada penolakan.');
  });

  it('pages with the store cursor', async () => {
    const h = consoleHarness();
    for (let i = 0; i < 21; i++) await h.failed(A, `P-${String(i).padStart(2, '0')}`, 'dead-letter', []);
    const a = await h.signIn(A);
    const first = (await a.get('/console/attention').expect(200)).text;
    expect(first.match(/<article class="visit"/g)).toHaveLength(20);
    const next = /id="next-page" href="([^"]+)"/.exec(first)![1]!.replace(/&amp;/g, '&');
    const second = (await a.get(next).expect(200)).text;
    expect(second.match(/<article class="visit"/g)).toHaveLength(1);
    expect(second).not.toContain('id="next-page"');
    const bad = await a.get('/console/attention?cursor=bogus').expect(400);
    expect(bad.text).toContain('cursor');
  });

  it('switches to English by the lang link (cookie) and by Accept-Language', async () => {
    const h = consoleHarness();
    await h.failed(A, 'V-EN', 'needs-correction', NEEDS_FIX);
    const a = await h.signIn(A);
    const sw = await a.get('/console/lang/en?back=/console/attention').expect(303).expect('Location', '/console/attention');
    expect(sw.headers['set-cookie']![0]).toMatch(/^lang=en; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=/);
    const page = (await a.get('/console/attention').expect(200)).text;
    expect(page).toContain('<html lang="en">');
    expect(page).toContain('correct the fields named in lastError at the source');
    expect(page).toContain('needs correction');
    expect((await h.agent().get('/console').set('Accept-Language', 'en-US,en;q=0.9').expect(200)).text).toContain('Sign in');
    // No open redirect through `back`.
    await a.get('/console/lang/id?back=https://evil.example/').expect(303).expect('Location', '/console');
  });

  it('escapes hostile values from configuration, platform errors and rejections', async () => {
    const hostileName = '<script>alert("name")</script>';
    const h = consoleHarness({ facilities: [{ ...facilityConfig(A), name: hostileName }, facilityConfig(B)] });
    await h.failed(A, 'V-X', 'needs-correction', [{ severity: 'error', code: 'value', expression: ['"><img src=x onerror=alert(1)>'], diagnostics: "</td><script>alert('d')</script>" }]);
    const admin = await h.signIn('admin');
    const pages = [(await admin.get('/console').expect(200)).text, (await admin.get('/console/attention').expect(200)).text];
    for (const text of pages) expect(text).not.toMatch(/<script>|<img/);
    expect(pages[0]).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(pages[1]).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(pages[1]).toContain('&lt;/td&gt;&lt;script&gt;alert(&#39;d&#39;)&lt;/script&gt;');
  });
});

describe('console requests from elsewhere', () => {
  it('refuses a form posted from another origin, the login included; accepts its own origin', async () => {
    const h = consoleHarness();
    const foreign = await h.agent().post('/console/login').set('Origin', 'https://evil.example').type('form').send({ apiKey: KEY[A] }).expect(403);
    expect(foreign.text).toContain('Formulir ini dikirim dari situs lain dan ditolak.');
    expect(sessionCookie(foreign.headers['set-cookie'])).toBeUndefined();
    const a = h.agent();
    // Its own host, also as https (a TLS-terminating proxy in front: the service sees http).
    await h.agent().post('/console/login').set('Host', 'puskesmas.example:8443').set('Origin', 'https://puskesmas.example:8443').type('form').send({ apiKey: KEY[A] }).expect(303);
    await h.agent().post('/console/login').set('Host', 'puskesmas.example:8443').set('Origin', 'https://puskesmas.example').type('form').send({ apiKey: KEY[A] }).expect(403);
    const login = await a.post('/console/login').type('form').send({ apiKey: KEY[A] }).expect(303);
    expect(sessionCookie(login.headers['set-cookie'])).toBeDefined();
    const token = csrfOf((await a.get('/console').expect(200)).text);
    await a.post('/console/logout').set('Origin', 'null').type('form').send({ _csrf: token }).expect(403);
    expect(await h.console.sessions.count()).toBe(2); // the https sign-in above and this one: the logout was refused
  });

  it('answers odd form bodies without a crash: repeated or prototype-named fields, too large a body', async () => {
    const h = consoleHarness();
    const a = await h.signIn(A);
    const token = csrfOf((await a.get('/console').expect(200)).text);
    await a.post('/console/requeue').type('form').send(`_csrf=${token}&organizationId=${A}&visitId=a&visitId=b`).expect(404);
    await a.post('/console/requeue').type('form').send(`_csrf=${token}&__proto__=x&constructor=y&organizationId=${A}`).expect(404);
    await a.post('/console/requeue').type('form').send(`_csrf=${token}&_csrf=${token}`).expect(403);
    const big = await a.post('/console/requeue').type('form').send(`_csrf=${token}&visitId=${'x'.repeat(5000)}`);
    expect(big.status).toBe(413);
  });

  it('answers an unknown console path with an HTML 404, not the API\'s JSON', async () => {
    const h = consoleHarness();
    const res = await h.agent().get('/console/nope').set('Accept', 'text/html').expect(404).expect('Content-Type', /text\/html/);
    expect(res.text).toContain('Halaman ini tidak ada.');
  });
});

describe('console isolation and roles', () => {
  it("never shows or acts on another facility's records with a facility session", async () => {
    const h = consoleHarness();
    await h.failed(B, 'B-SECRET-1', 'needs-correction', NEEDS_FIX);
    await h.push(B, { ...visits(B, 1)[0], visitId: 'B-REJ', setting: 'kapal' }).expect(422);
    const a = await h.signIn(A);
    for (const path of ['/console', '/console/attention', '/console/rejections']) {
      const text = (await a.get(path).expect(200)).text;
      expect(text).not.toContain('B-SECRET-1');
      expect(text).not.toContain('B-REJ');
      expect(text).not.toContain(`data-org="${B}"`);
    }
    const token = csrfOf((await a.get('/console').expect(200)).text);
    const res = await a.post('/console/requeue').type('form').send({ _csrf: token, organizationId: B, visitId: 'B-SECRET-1' }).expect(404);
    expect(res.text).toContain('Tidak ditemukan (atau bukan milik fasilitas Anda).');
    expect((await h.store.getVisit(B, 'B-SECRET-1'))!.state).toBe('needs-correction');
    // A query parameter cannot widen the scope either.
    for (const path of ['/console/attention', '/console/rejections']) {
      const res = await a.get(`${path}?organization=${B}`).expect(403);
      expect(res.text).not.toContain('B-SECRET-1');
      expect(res.text).not.toContain('B-REJ');
    }
  });

  it('lets the admin see every facility, requeue any record and pause / resume; a facility gets 403 for pause / resume', async () => {
    const h = consoleHarness();
    await h.failed(B, 'B-1', 'dead-letter', []);
    const admin = await h.signIn('admin');
    const overview = (await admin.get('/console').expect(200)).text;
    expect(overview).toContain('Masuk sebagai koordinator (admin): semua fasilitas.');
    expect(overview).toContain(`data-org="${A}"`);
    expect(overview).toContain(`data-org="${B}"`);
    const token = csrfOf(overview);
    await admin.post('/console/requeue').type('form').send({ _csrf: token, organizationId: B, visitId: 'B-1' }).expect(303);
    expect((await h.store.getVisit(B, 'B-1'))!.state).toBe('queued');

    await admin.post('/console/facilities/pause').type('form').send({ _csrf: token, organizationId: B }).expect(303);
    expect((await h.store.getFacilityState(B))!.status).toBe('paused');
    const paused = (await admin.get('/console').expect(200)).text;
    expect(paused).toContain(`Pengiriman fasilitas ${B} dijeda.`);
    expect(paused).toContain(`data-action="resume" data-org="${B}"`);
    await admin.post('/console/facilities/resume').type('form').send({ _csrf: token, organizationId: B }).expect(303);
    expect((await h.store.getFacilityState(B))!.status).toBe('active');
    await admin.post('/console/facilities/pause').type('form').send({ _csrf: token, organizationId: 'NOT-CONFIGURED' }).expect(404);

    // The admin narrows a list to one facility from the overview's links; the filter survives paging.
    expect(overview).toContain(`href="/console/attention?organization=${B}"`);
    await h.failed(A, 'A-1', 'blocked', []);
    const onlyB = (await admin.get(`/console/attention?organization=${B}`).expect(200)).text;
    expect(onlyB).toContain(`Fasilitas ${B} saja`);
    expect(onlyB).not.toContain('data-visit="A-1"');
    expect((await admin.get('/console/attention').expect(200)).text).toContain('data-visit="A-1"');

    const a = await h.signIn(A);
    const aPage = (await a.get('/console').expect(200)).text;
    expect(aPage).not.toContain('data-action=');
    const denied = await a.post('/console/facilities/pause').type('form').send({ _csrf: csrfOf(aPage), organizationId: A }).expect(403);
    expect(denied.text).toContain('Hanya koordinator (kunci admin) yang dapat melakukan ini.');
    expect((await h.store.getFacilityState(A))?.status ?? 'active').toBe('active');
  });
});
