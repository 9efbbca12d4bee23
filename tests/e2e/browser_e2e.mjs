// Browser end-to-end test of examples/http_server (ctest: e2e.browser, label browser).
//
//   node browser_e2e.mjs --server TEST_CLOCK_BINARY --artifacts DIR [--chromium PATH]
//
// Debian's chromium, headless, driven by playwright-core (pinned by package-lock.json; install with
// `npm ci --prefix tests/e2e`). Through the page only, as a user would: log in, call the API, check
// that document.cookie shows neither token (HttpOnly), let the access token expire (the test-clock
// server's POST /test/clock) and check the page refreshes transparently, log out. A screenshot of
// the page while logged in and of the final page are saved in DIR as test artifacts (and one of
// the page as it was on a failure).
// A missing chromium or playwright-core makes the test SKIP (exit 77), or FAIL when
// TEGATA_REQUIRE_E2E is set.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const serverPath = option('--server');
const artifacts = option('--artifacts', join(process.cwd(), 'e2e-artifacts'));
const chromiumPath = option('--chromium', '/usr/bin/chromium');
if (!serverPath) {
  console.error('usage: node browser_e2e.mjs --server PATH [--artifacts DIR] [--chromium PATH]');
  process.exit(2);
}

function skip(why) {
  if (/^(1|on|true|yes)$/i.test(process.env.TEGATA_REQUIRE_E2E ?? '')) {
    console.log(`FAIL: ${why} (TEGATA_REQUIRE_E2E is set)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

if (!existsSync(chromiumPath)) skip(`no chromium at ${chromiumPath} (Debian: apt-get install chromium)`);
let chromium;
try {
  ({ chromium } = createRequire(join(here, 'package.json'))('playwright-core'));
} catch {
  skip("playwright-core is not installed: run 'npm ci --prefix tests/e2e'");
}

// --- checks -------------------------------------------------------------------------------------
let failures = 0;
let passes = 0;
function check(condition, what, detail = '') {
  if (condition) {
    passes += 1;
    console.log(`ok   ${what}`);
  } else {
    failures += 1;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
}

// --- the server ---------------------------------------------------------------------------------
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(serverPath, ['--port', '0', '--insecure-http', '--access-ttl', '60',
                                     '--refresh-ttl', '600'],
                        { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const log = [];
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, base: match[1], log });
      }
    });
    child.stderr.on('data', (chunk) => log.push(String(chunk)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${out}`));
    });
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve(server.child.exitCode);
    const kill = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    server.child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    server.child.kill('SIGTERM');
  });
}

// --- the test -----------------------------------------------------------------------------------
mkdirSync(artifacts, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'tegata-chromium-'));
let server;
// Whatever ends this process (a failure, a ctest timeout), the server goes with it.
process.on('exit', () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));
let context;
let page;
let code = 1;
try {
  server = await startServer();
  console.log(`server at ${server.base}`);

  // A fresh profile directory, so no cookie or cache of an earlier run can take part.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
  // Every cookie of the profile, whatever its Path.
  const sessionCookies = async () =>
    (await context.cookies()).filter((c) => /^(access|refresh)_token$/.test(c.name));

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
  const access = cookies.find((c) => c.name === 'access_token');
  const refresh = cookies.find((c) => c.name === 'refresh_token');
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

  // The access token expires (server clock +61 s): the next call refreshes transparently.
  const advanced = await fetch(`${server.base}/test/clock`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"advance":61}' });
  check(advanced.status === 200, 'the server clock moves past the access token lifetime');
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
  check(rotated.find((c) => c.name === 'refresh_token')?.value !== refresh?.value,
        'the refresh cookie was rotated');
  check((await page.evaluate(() => document.cookie)) === '', 'document.cookie is still empty');
  await page.screenshot({ path: join(artifacts, 'browser_e2e_logged_in.png'), fullPage: true });

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

  await page.screenshot({ path: join(artifacts, 'browser_e2e.png'), fullPage: true });
  console.log(`screenshot: ${join(artifacts, 'browser_e2e.png')}`);
  code = failures === 0 ? 0 : 1;
} catch (error) {
  console.log(`FAIL: ${error.stack ?? error}`);
  if (page) {
    await page.screenshot({ path: join(artifacts, 'browser_e2e_failure.png'), fullPage: true })
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

console.log(`\n${code === 0 ? 'PASSED' : 'FAILED'}: ${passes} passed, ${failures} failed`);
process.exit(code);
