// Browser end-to-end test of examples/http_server (ctest: e2e.browser, label browser).
//
//   node browser_e2e.mjs --server TEST_CLOCK_BINARY --artifacts DIR [--chromium PATH] [--https]
//
// With --https the server runs as deployed: HTTPS (a certificate the test makes with openssl and
// Chromium trusts by its key, --ignore-certificate-errors-spki-list) and the default cookies,
// Secure with the __Host- prefix. Without it: plain HTTP and --insecure-http's bare names. Both
// modes also check that a page of another origin cannot make the browser change state (CSRF).
//
// Debian's chromium, headless, driven by playwright-core (pinned by package-lock.json; install with
// `npm ci --prefix tests/e2e`). Through the page only, as a user would: log in, call the API, check
// that document.cookie shows neither token (HttpOnly), let the access token expire (the test-clock
// server's POST /test/clock) and check the page refreshes transparently, log out. A screenshot of
// the page while logged in and of the final page are saved in DIR as test artifacts (and one of
// the page as it was on a failure).
// A missing chromium or playwright-core makes the test SKIP (exit 77), or FAIL when
// TEGATA_REQUIRE_E2E is set.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { check, option, skip, startServer as launch, stopServer, tally } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const serverPath = option('--server');
const artifacts = option('--artifacts', join(process.cwd(), 'e2e-artifacts'));
const chromiumPath = option('--chromium', '/usr/bin/chromium');
const https = args.includes('--https');
const cookiePrefix = https ? '__Host-' : '';
const shot = (name) => join(artifacts, `${https ? 'browser_https_e2e' : 'browser_e2e'}${name}.png`);
if (!serverPath) {
  console.error('usage: node browser_e2e.mjs --server PATH [--artifacts DIR] [--chromium PATH]');
  process.exit(2);
}


if (!existsSync(chromiumPath)) skip(`no chromium at ${chromiumPath} (Debian: apt-get install chromium)`);
let chromium;
let request;
try {
  ({ chromium, request } = createRequire(join(here, 'package.json'))('playwright-core'));
} catch {
  skip("playwright-core is not installed: run 'npm ci --prefix tests/e2e'");
}

// --- TLS: a certificate for 127.0.0.1 and localhost, and the hash Chromium trusts it by ---------
function makeCertificate(dir) {
  const key = join(dir, 'tls-key.pem');
  const cert = join(dir, 'tls-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                           '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj',
                           '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
               { stdio: 'ignore' });
  // base64(SHA-256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list takes.
  const spki = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: spki });
  const hash = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return { key, cert, spki: hash.toString('base64') };
}

// --- the server ---------------------------------------------------------------------------------
function startServer(tls) {
  const mode = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : ['--insecure-http'];
  return launch(serverPath, [...mode, '--access-ttl', '60', '--refresh-ttl', '600']);
}

// --- the test -----------------------------------------------------------------------------------
mkdirSync(artifacts, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'tegata-chromium-'));
let server;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
let context;
let page;
let code = 1;
try {
  const tls = https ? makeCertificate(profile) : null;
  server = await startServer(tls);
  console.log(`server at ${server.base}`);
  check(server.base.startsWith(https ? 'https://' : 'http://'), 'the server speaks the mode asked for');

  // A fresh profile directory, so no cookie or cache of an earlier run can take part.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           ...(tls ? [`--ignore-certificate-errors-spki-list=${tls.spki}`] : [])],
    timeout: 60000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20000);
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  const requests = [];
  page.on('request', (request) => requests.push(`${request.method()} ${new URL(request.url()).pathname}`));

  // Clicks a button and waits until the page has shown the answer (the script bumps data-seq).
  const act = async (selector) => {
    const before = await page.locator('#output').getAttribute('data-seq');
    await page.click(selector);
    await page.waitForFunction(
      (seq) => document.getElementById('output').dataset.seq !== seq, before);
    return page.locator('#output').textContent();
  };
  const status = () => page.locator('#status').textContent();
  // Every session cookie of the profile, whatever its Path.
  const sessionCookies = async () =>
    (await context.cookies()).filter((c) => /^(__Host-)?(access|refresh)_token$/.test(c.name));

  await page.goto(`${server.base}/`);
  check((await page.title()) === 'tegata session demo', 'the page loads');

  // Log in through the form.
  await page.fill('#username', 'alice');
  await page.fill('#password', 'wonderland');
  let output = await act('#login-button');
  check(output.startsWith('POST /login: 200'), 'login through the form', output);
  check((await status()) === 'Logged in as alice.', 'the page says who is logged in');
  check((await page.inputValue('#password')) === '', 'the password field is cleared');

  // Both cookies exist, HttpOnly, SameSite=Strict; the script cannot see them.
  const cookies = await sessionCookies();
  const access = cookies.find((c) => c.name === `${cookiePrefix}access_token`);
  const refresh = cookies.find((c) => c.name === `${cookiePrefix}refresh_token`);
  check(cookies.length === 2, `exactly two session cookies, named ${cookiePrefix}access_token and ` +
        `${cookiePrefix}refresh_token`, JSON.stringify(cookies.map((c) => c.name)));
  check(access?.secure === https && refresh?.secure === https,
        https ? 'both cookies are Secure' : 'plain HTTP: no Secure attribute',
        JSON.stringify([access?.secure, refresh?.secure]));
  check(access && access.httpOnly && access.sameSite === 'Strict' && access.path === '/',
        'the access cookie is HttpOnly, SameSite=Strict, Path=/', JSON.stringify(access));
  check(refresh && refresh.httpOnly && refresh.sameSite === 'Strict' && refresh.path === '/',
        'the refresh cookie is HttpOnly, SameSite=Strict, Path=/', JSON.stringify(refresh));
  const visible = await page.evaluate(() => document.cookie);
  check(visible === '', 'document.cookie sees neither token', JSON.stringify(visible));
  check(access && !visible.includes(access.value) && refresh && !visible.includes(refresh.value),
        'neither token value is reachable from script');
  check((await page.locator('#cookies').textContent()) === '""',
        'the page itself shows an empty document.cookie');
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  check(storage === '{}', 'nothing is kept in web storage', storage);

  // The API works with the cookies alone.
  output = await act('#me');
  check(output.startsWith('GET /api/me: 200') && output.includes('"subject": "alice"'),
        'GET /api/me works', output);

  // CSRF: a page of another origin (localhost is not 127.0.0.1, and not even the same site)
  // posts a form to /logout-all. The browser says where it comes from (Origin), and the server
  // refuses before any route runs. (With SameSite=Strict the cookies would not go along either:
  // the 403 shows that the Origin check stands on its own.) The attacker's page is the JWKS
  // document, which has no Content-Security-Policy: the site's pages forbid posting forms
  // elsewhere (form-action 'self'), an attacker's would not.
  const other = await context.newPage();
  await other.goto(`${server.base.replace('127.0.0.1', 'localhost')}/.well-known/jwks.json`);
  const [forged] = await Promise.all([
    other.waitForResponse((r) => r.url().endsWith('/logout-all')),
    other.evaluate((target) => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = target;
      document.body.appendChild(form);
      form.submit();
    }, `${server.base}/logout-all`),
  ]);
  const forgedBody = await forged.text();
  check(forged.status() === 403 && forgedBody.includes('"cross_site_request"'),
        'a form posted from another origin is refused (403 cross_site_request)',
        `${forged.status()} ${forgedBody}`);
  await other.close();
  output = await act('#me');
  check(output.startsWith('GET /api/me: 200'), 'the session survived the forged request', output);

  // The access token expires (server clock +61 s): the next call refreshes transparently. The
  // request comes from the page itself (same origin), as a state-changing request must.
  const advanced = await page.evaluate(async () => (await fetch('/test/clock', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"advance":61}' })).status);
  check(advanced === 200, 'the server clock moves past the access token lifetime');
  const firstRefreshAt = requests.length;
  output = await act('#me');
  const sequence = requests.slice(firstRefreshAt).filter((r) => !r.endsWith('.ico'));
  check(output.startsWith('GET /api/me: 200') && output.includes('"subject": "alice"'),
        'GET /api/me still works after the access token expired', output);
  check(JSON.stringify(sequence) ===
            JSON.stringify(['GET /api/me', 'POST /refresh', 'GET /api/me']),
        'the page refreshed by itself: 401, POST /refresh, retry', JSON.stringify(sequence));
  check((await page.locator('#refreshes').textContent()) === '1', 'one transparent refresh counted');
  const rotated = await sessionCookies();
  check(rotated.find((c) => c.name === `${cookiePrefix}refresh_token`)?.value !== refresh?.value,
        'the refresh cookie was rotated');
  check((await page.evaluate(() => document.cookie)) === '', 'document.cookie is still empty');
  await page.screenshot({ path: shot('_logged_in'), fullPage: true });

  // The server clock, moved from the page (a state-changing request from our own origin).
  const advanceClock = (seconds) => page.evaluate(async (s) => (await fetch('/test/clock', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ advance: s }) })).status, seconds);

  // Two tabs of one browser refresh at the same instant, as they do when the access token runs
  // out while both are open: 20 rounds, and the user is never signed out (the loser of each race
  // gets a pair on the same chain, within reuse_grace).
  const tab = await context.newPage();
  await tab.goto(`${server.base}/`);
  const refreshFrom = (p) => p.evaluate(async () => {
    const r = await fetch('/refresh', { method: 'POST', credentials: 'same-origin' });
    return { status: r.status, body: await r.text() };
  });
  const meFrom = (p) => p.evaluate(async () => (await fetch('/api/me')).status);
  let racesWon = 0;
  for (let round = 0; round < 20; round += 1) {
    await advanceClock(61);
    const answers = await Promise.all([refreshFrom(page), refreshFrom(tab)]);
    racesWon += answers.filter((a) => a.status === 200).length;
    if (answers.some((a) => a.status !== 200)) {
      check(false, `round ${round}: both tabs refreshed`, JSON.stringify(answers));
      break;
    }
    const statuses = await Promise.all([meFrom(page), meFrom(tab)]);
    if (statuses.some((s) => s !== 200)) {
      check(false, `round ${round}: both tabs still signed in`, JSON.stringify(statuses));
      break;
    }
  }
  check(racesWon === 40, 'two tabs refreshing at once, 20 rounds: never signed out',
        `${racesWon} of 40 refreshes succeeded`);
  await tab.close();

  // Your sessions: a second browser (its own profile) logs in without "remember me"; the first
  // lists both and signs the second out, which then gets 401 and cannot refresh.
  const profile2 = mkdtempSync(join(tmpdir(), 'tegata-chromium-'));
  const context2 = await chromium.launchPersistentContext(profile2, {
    executablePath: chromiumPath, headless: true, timeout: 60000,
    userAgent: 'tegata-e2e second browser',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           ...(tls ? [`--ignore-certificate-errors-spki-list=${tls.spki}`] : [])],
  });
  try {
    const page2 = context2.pages()[0] ?? (await context2.newPage());
    page2.setDefaultTimeout(20000);
    await page2.goto(`${server.base}/`);
    await page2.fill('#username', 'alice');
    await page2.fill('#password', 'wonderland');
    await page2.uncheck('#remember');
    const before2 = await page2.locator('#output').getAttribute('data-seq');
    await page2.click('#login-button');
    await page2.waitForFunction((seq) => document.getElementById('output').dataset.seq !== seq, before2);
    const cookies2 = (await context2.cookies()).filter((c) => /(access|refresh)_token$/.test(c.name));
    check(cookies2.length === 2 && cookies2.every((c) => c.expires === -1),
          'without "remember me" both cookies are session cookies (no Max-Age)',
          JSON.stringify(cookies2.map((c) => [c.name, c.expires])));
    check((await page2.evaluate(async () => (await fetch('/api/me')).status)) === 200,
          'the second browser is signed in');

    output = await act('#sessions');
    const items = page.locator('#session-list li');
    check((await items.count()) === 2, 'the session list shows both browsers', output);
    const texts = await items.allTextContents();
    check(texts.filter((t) => t.includes('(this browser)')).length === 1,
          'exactly one session is marked as this browser', JSON.stringify(texts));
    const otherItem = items.filter({ hasText: 'tegata-e2e second browser' });
    check((await otherItem.count()) === 1, "the other session shows the other browser's User-Agent",
          JSON.stringify(texts));
    const [revoked] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/revoke')),
      page.click('#session-list li:has-text("tegata-e2e second browser") button.revoke'),
    ]);
    check(revoked.status() === 200, 'the first browser signs the second out',
          `${revoked.status()} ${await revoked.text()}`);
    await page.waitForFunction(() => document.querySelectorAll('#session-list li').length === 1);
    check((await items.count()) === 1, 'the list then shows one session');
    const after = await page2.evaluate(async () => {
      const me = await fetch('/api/me');
      const refreshed = await fetch('/refresh', { method: 'POST' });
      return { me: me.status, meBody: await me.text(), refresh: refreshed.status };
    });
    check(after.me === 401 && after.meBody.includes('session_revoked') && after.refresh === 401,
          'the signed-out browser gets 401 and cannot refresh', JSON.stringify(after));
    check((await page.evaluate(async () => (await fetch('/api/me')).status)) === 200,
          'the first browser is still signed in');
  } finally {
    await context2.close().catch(() => {});
    rmSync(profile2, { recursive: true, force: true });
  }

  // Log out: the cookies are gone and the API answers 401.
  output = await act('#logout');
  check(output.startsWith('POST /logout: 200'), 'logout', output);
  check((await status()) === 'Logged out.', 'the page says logged out');
  check((await sessionCookies()).length === 0, 'logout removed both cookies');
  output = await act('#me');
  check(output.startsWith('GET /api/me: 401') && output.includes('"error": "not_found"'),
        'GET /api/me after logout is 401', output);
  check(consoleErrors.every((e) => e.includes('status of 401')),
        'no script error on the page (only the logged 401s)', JSON.stringify(consoleErrors));

  // Theft: log in again, refresh twice more than reuse_grace apart, then present the first
  // refresh token again from outside the browser (a thief's copy). The family is revoked, and
  // the browser is signed out at its next call.
  await page.fill('#password', 'wonderland');
  output = await act('#login-button');
  check(output.startsWith('POST /login: 200'), 'log in again', output);
  const stolen = (await sessionCookies()).find((c) => c.name === `${cookiePrefix}refresh_token`);
  for (let i = 0; i < 2; i += 1) {
    await advanceClock(30);
    output = await act('#refresh');
    check(output.startsWith('POST /refresh: 200'), `refresh ${i + 1} after the new login`, output);
  }
  // A client of its own, with no cookie jar but the stolen token (and the test's certificate).
  const thief = await request.newContext({ ignoreHTTPSErrors: true });
  const replay = await thief.post(`${server.base}/refresh`,
                                  { headers: { Cookie: `${stolen.name}=${stolen.value}` } });
  const replayBody = await replay.text();
  await thief.dispose();
  check(replay.status() === 401 && replayBody.includes('refresh_reused'),
        'a refresh token replayed past the grace window is theft (refresh_reused)',
        `${replay.status()} ${replayBody}`);
  output = await act('#me');
  check(output.startsWith('GET /api/me: 401') && output.includes('session_revoked'),
        'the theft verdict revoked the whole session: the browser is signed out too', output);

  await page.screenshot({ path: shot(''), fullPage: true });
  console.log(`screenshot: ${shot('')}`);
  code = tally.failures === 0 ? 0 : 1;
} catch (error) {
  console.log(`FAIL: ${error.stack ?? error}`);
  if (page) {
    await page.screenshot({ path: shot('_failure'), fullPage: true })
      .catch(() => {});
  }
  code = 1;
} finally {
  if (context) await context.close().catch(() => {});
  if (server) {
    const exit = await stopServer(server);
    if (exit !== 0) {
      console.log(`FAIL: the server exited with ${exit} on SIGTERM`);
      code = 1;
    }
    if (code !== 0) console.log(`--- server log\n${server.log.join('')}`);
  }
  rmSync(profile, { recursive: true, force: true });
}

console.log(`\n${code === 0 ? 'PASSED' : 'FAILED'}: ${tally.passes} passed, ${tally.failures} failed`);
process.exit(code);
