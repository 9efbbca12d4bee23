// End-to-end test of examples/http_server's token mode (DPoP, RFC 9449) (ctest: e2e.dpop).
//
//   node dpop_e2e.mjs --server TEST_CLOCK_BINARY [--store memory|sqlite] [--readme-client FILE]
//
// --store sqlite gives each server a fresh SQLite file of its own, and adds a step where two
// servers share one file: a proof used on one is refused by the other.
//
// A client built on the npm package dpop (panva's RFC 9449 client, pinned by package-lock.json)
// logs in, calls the API, refreshes and logs out over HTTP, for ES256, Ed25519, RS256 and PS256
// keys. Then every attack of RFC 9449 §11 that an HTTP client can mount is made against a live
// session, each answered 401 with the WWW-Authenticate: DPoP error that names it, and what it
// leaves behind is checked (the session alive, the refresh token not used up): a replayed proof;
// a proof for another method, path or origin; a stolen access or refresh token with the thief's
// own proof; a bound token without a proof (also in a cookie); two DPoP headers; proofs that
// dpop would never make (made with jose): a jwk carrying the private key, alg none, HS256, a
// stale or future iat, no or a wrong ath, no jti. A second server runs with --dpop-nonce: the
// first request is refused with use_dpop_nonce and a DPoP-Nonce header, and the retry with it
// passes. Cookie sessions are checked unchanged beside token mode, and kept apart from it: a
// DPoP request is never served from cookies, and a cookie session's token is refused in token
// mode. With --readme-client, the token-mode client of examples/http_server/README.md runs as
// printed against both servers.
//
// The server's clock is the test build's ManualClock, which only POST /test/clock moves: refresh
// rotation is checked past reuse_grace by moving it 11 s, and before each step it is caught up
// with the real clock, which the proofs' iat follows (keepTime).
//
// A missing dpop or jose package makes the test SKIP (exit 77), or FAIL when TEGATA_REQUIRE_E2E
// is set (as CI does): `npm ci --prefix tests/e2e` installs them.
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { check, option, skip, startServer as launch, stopServer, tally } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const serverPath = option('--server');
const store = option('--store', 'memory');
if (store !== 'memory' && store !== 'sqlite') {
  console.error('--store: memory or sqlite');
  process.exit(2);
}
const readmeClient = option('--readme-client');
if (!serverPath) {
  console.error('usage: node dpop_e2e.mjs --server PATH [--store memory|sqlite] [--readme-client FILE]');
  process.exit(2);
}


// Resolved from this directory's node_modules, whatever the working directory.
const load = createRequire(join(here, 'package.json'));
let DPoP;
let jose;
try {
  DPoP = await import(load.resolve('dpop'));
  jose = await import(load.resolve('jose'));
} catch {
  skip("dpop or jose is not installed: run 'npm ci --prefix tests/e2e'");
}
globalThis.crypto ??= webcrypto;  // dpop uses WebCrypto, a global only from Node.js 19 on

// --- checks -------------------------------------------------------------------------------------
// Runs a named group of checks; an exception fails the group, and the run goes on. Each starts
// with the servers' clocks caught up with the real one (see keepTime).
async function step(what, body) {
  console.log(`--- ${what}`);
  try {
    for (const server of servers) await keepTime(server);
    await body();
  } catch (error) {
    check(false, what, `threw ${error?.stack ?? error}`);
  }
}

// --- the servers --------------------------------------------------------------------------------
const servers = [];
// Scratch space: the SQLite files, a key file.
const work = mkdtempSync(join(tmpdir(), 'tegata-dpop-e2e-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// A server on a free port; its base is where to connect, its origin what proofs name (the same,
// unless --public-origin says otherwise). storeFile: a SQLite file to share with another server.
async function startServer(extra = [], { storeFile, publicOrigin } = {}) {
  const spec = store === 'sqlite' ? `sqlite:${storeFile ?? join(work, `store-${servers.length}.db`)}`
                                  : 'memory';
  const origin = publicOrigin ? ['--public-origin', publicOrigin] : [];
  const server = await launch(serverPath, ['--insecure-http', '--access-ttl', '60',
                                           '--refresh-ttl', '600', '--store', spec, ...origin,
                                           ...extra]);
  server.origin = publicOrigin ?? server.base;
  servers.push(server);
  return server;
}

// --- HTTP ---------------------------------------------------------------------------------------
// One request on a connection of its own, with exactly the header fields given (an array value
// sends that many fields of one name). Returns { status, headers, body, json }.
function send(base, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const payload = body === undefined ? undefined
      : typeof body === 'string' ? body : JSON.stringify(body);
    const all = { ...headers };
    if (payload !== undefined) {
      all['Content-Length'] = Buffer.byteLength(payload);
      if (typeof body !== 'string' && !('Content-Type' in all)) all['Content-Type'] = 'application/json';
    }
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: url.pathname,
                              headers: all, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// The error="..." of a response's WWW-Authenticate: DPoP challenge ('' without one, null when
// the response has no DPoP challenge at all).
function challengeError(response) {
  const value = response.headers['www-authenticate'];
  if (typeof value !== 'string' || !/^DPoP algs="[^"]+"/.test(value)) return null;
  return /error="([^"]+)"/.exec(value)?.[1] ?? '';
}

// A refusal: the status, the WWW-Authenticate error and the body's errc name.
function refused(response, what, { status = 401, challenge, error } = {}) {
  const detail = `${response.status} ${response.headers['www-authenticate'] ?? '(no challenge)'} ${response.body}`;
  let ok = response.status === status;
  if (challenge !== undefined) ok &&= challengeError(response) === challenge;
  if (error !== undefined) ok &&= response.json?.error === error;
  return check(ok, what, detail);
}

const payloadOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const now = () => Math.floor(Date.now() / 1000);

// A token-mode client: its key pair, the server's latest nonce, and requests that carry a fresh
// proof each. With retry, a refusal with use_dpop_nonce is retried once with the nonce it sent.
class Client {
  constructor(server, keys) {
    this.server = server;
    this.keys = keys;
    this.nonce = undefined;
  }

  static async create(server, alg, options = {}) {
    return new Client(server, await DPoP.generateKeyPair(alg, options));
  }

  thumbprint() {
    return DPoP.calculateThumbprint(this.keys.publicKey);
  }

  proof(method, path, token, origin = this.server.origin) {
    return DPoP.generateProof(this.keys, origin + path, method, this.nonce, token);
  }

  async request(method, path, { token, body, retry = true, headers = {} } = {}) {
    const all = { DPoP: await this.proof(method, path, token), ...headers };
    if (token) all.Authorization = `DPoP ${token}`;
    const response = await send(this.server.base, method, path, { headers: all, body });
    if (response.headers['dpop-nonce']) this.nonce = response.headers['dpop-nonce'];
    if (retry && response.status === 401 && challengeError(response) === 'use_dpop_nonce') {
      return this.request(method, path, { token, body, retry: false, headers });
    }
    return response;
  }

  login(extra = {}) {
    return this.request('POST', '/login',
                        { body: { username: 'alice', password: 'wonderland', remember: true, ...extra } });
  }

  me(token) {
    return this.request('GET', '/api/me', { token });
  }

  refresh(refreshToken) {
    return this.request('POST', '/refresh', { body: { refresh_token: refreshToken } });
  }
}

// A token-mode answer with a pair: its shape, and no cookie.
function checkPair(response, what) {
  const json = response.json ?? {};
  check(response.status === 200 && json.token_type === 'DPoP' &&
        typeof json.access_token === 'string' && typeof json.refresh_token === 'string' &&
        Number.isInteger(json.expires_in) && json.expires_in > 0 && json.expires_in <= 60,
        `${what}: 200 {access_token, refresh_token, token_type: "DPoP", expires_in}`,
        `${response.status} ${response.body}`);
  check(response.headers['set-cookie'] === undefined, `${what}: sets no cookie`,
        JSON.stringify(response.headers['set-cookie']));
  check(/no-store/.test(response.headers['cache-control'] ?? ''), `${what}: Cache-Control: no-store`);
  return json;
}

// A proof made by jose, with any header and payload: the shapes dpop refuses to make. The key
// pair may be dpop's own (a CryptoKey signs as well in jose).
async function handMade(keys, alg, header, claims) {
  return new jose.SignJWT(claims).setProtectedHeader({ alg, typ: 'dpop+jwt', ...header })
    .sign(keys.privateKey);
}

// RFC 9449 §4.2 ath: base64url(SHA-256(the access token)).
const athOf = async (token) => jose.base64url.encode(
  new Uint8Array(await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));

// The test server's ManualClock stands still while the proofs' iat follows the real clock: moved
// up to the real time before each step, the two never drift apart by more than one step takes,
// however slow the machine, and proofs stay well inside their 60 s window. (A server ahead of
// the real clock, after advance(), is left alone: it only moves forward.)
async function keepTime(server) {
  const r = await send(server.base, 'POST', '/test/clock', { body: { advance: 0 } });
  if (r.status !== 200 || !Number.isInteger(r.json?.now)) throw new Error(`POST /test/clock: ${r.body}`);
  const lag = now() - r.json.now;
  if (lag > 0) await send(server.base, 'POST', '/test/clock', { body: { advance: lag } });
}

// POST /test/clock: moves the server's clock forward by seconds.
async function advance(server, seconds) {
  const r = await send(server.base, 'POST', '/test/clock', { body: { advance: seconds } });
  check(r.status === 200, `the server clock moves ${seconds} s`, r.body);
}

// --- the test -----------------------------------------------------------------------------------
let code = 1;
try {
  const server = await startServer();
  console.log(`server at ${server.base} (--store ${store === 'sqlite' ? 'sqlite:FILE' : store})`);

  for (const alg of ['ES256', 'Ed25519', 'RS256', 'PS256']) {
    await step(`${alg}: login, the API, refresh, logout`, async () => {
      const client = await Client.create(server, alg);
      const jkt = await client.thumbprint();
      let pair = checkPair(await client.login(), `${alg} login`);
      check(payloadOf(pair.access_token).cnf?.jkt === jkt && payloadOf(pair.refresh_token).cnf?.jkt === jkt,
            `${alg} both tokens are bound to the client's key (cnf.jkt)`);
      const me = await client.me(pair.access_token);
      check(me.status === 200 && me.json?.subject === 'alice', `${alg} GET /api/me`, me.body);
      if (alg === 'RS256' || alg === 'PS256') return;  // login and a call suffice for RSA

      const sessions = await client.request('GET', '/api/sessions', { token: pair.access_token });
      check(sessions.status === 200 && sessions.json?.sessions?.some((s) => s.current),
            `${alg} GET /api/sessions in token mode`, sessions.body);
      const first = pair;
      pair = checkPair(await client.refresh(pair.refresh_token), `${alg} refresh`);
      check(pair.refresh_token !== first.refresh_token && pair.access_token !== first.access_token,
            `${alg} the refresh rotated both tokens`);
      check(payloadOf(pair.refresh_token).cnf?.jkt === jkt, `${alg} the new pair is bound to the same key`);
      const again = await client.me(pair.access_token);
      check(again.status === 200 && again.json?.session_id === me.json?.session_id,
            `${alg} the new access token works, same session`, again.body);

      const logout = await client.request('POST', '/logout', { token: pair.access_token });
      check(logout.status === 200 && logout.json?.logged_out === true &&
            logout.headers['set-cookie'] === undefined,
            `${alg} POST /logout with Authorization: DPoP (no cookie cleared: there is none)`, logout.body);
      refused(await client.me(pair.access_token), `${alg} the access token is refused after logout`,
              { challenge: 'invalid_token', error: 'session_revoked' });
      refused(await client.refresh(pair.refresh_token), `${alg} so is the refresh token`,
              { challenge: 'invalid_token', error: 'session_revoked' });

      // Logout with the refresh token in the body (the access token may have expired).
      const other = checkPair(await client.login(), `${alg} login again`);
      const byRefresh = await client.request('POST', '/logout',
                                             { body: { refresh_token: other.refresh_token } });
      check(byRefresh.status === 200, `${alg} POST /logout with {"refresh_token"}`, byRefresh.body);
      refused(await client.me(other.access_token), `${alg} that session is over`,
              { error: 'session_revoked' });
    });
  }

  // The victim: an ES256 key whose private half jose can export (for the proof carrying it).
  const victim = await Client.create(server, 'ES256', { extractable: true });
  const thief = await Client.create(server, 'Ed25519');
  let pair;
  await step('the victim logs in', async () => {
    pair = checkPair(await victim.login(), 'victim login');
  });
  const stillSignedIn = async (what) => {
    const r = await victim.me(pair.access_token);
    check(r.status === 200, `${what}: the victim's session is untouched`, r.body);
  };
  const meWith = (proof, token = pair.access_token, extra = {}) =>
    send(server.base, 'GET', '/api/me',
         { headers: { Authorization: `DPoP ${token}`, ...(proof ? { DPoP: proof } : {}), ...extra } });

  await step('a wrong password uses no proof up (nobody fills the replay cache from /login)', async () => {
    const proof = await victim.proof('POST', '/login');
    const login = (password) => send(server.base, 'POST', '/login', {
      headers: { DPoP: proof }, body: { username: 'alice', password, remember: true } });
    refused(await login('not the password'), 'a wrong password: 401 invalid_credentials',
            { error: 'invalid_credentials' });
    checkPair(await login('wonderland'), 'the same proof then logs in');
    refused(await login('wonderland'), 'and only once', { error: 'dpop_replayed' });
  });

  await step('a replayed proof', async () => {
    const proof = await victim.proof('GET', '/api/me', pair.access_token);
    check((await meWith(proof)).status === 200, 'the proof works once');
    refused(await meWith(proof), 'the same proof again: 401',
            { challenge: 'invalid_dpop_proof', error: 'dpop_replayed' });
  });

  await step('a proof for another request', async () => {
    refused(await meWith(await victim.proof('POST', '/api/me', pair.access_token)),
            'a proof for another method', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(await victim.proof('GET', '/api/sessions', pair.access_token)),
            'a proof for another path', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const elsewhere = server.base.replace('127.0.0.1', 'localhost');
    refused(await meWith(await victim.proof('GET', '/api/me', pair.access_token, elsewhere)),
            'a proof for another origin', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(await victim.proof('GET', '/api/me', pair.access_token), pair.access_token,
                         { Host: elsewhere.replace('http://', '') }),
            'a request whose Host names another origin than its proof',
            { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    await stillSignedIn('after proofs for other requests');
  });

  await step('stolen tokens with the thief\'s own proof', async () => {
    refused(await thief.me(pair.access_token), 'a stolen access token: 401 dpop_mismatch',
            { challenge: 'invalid_dpop_proof', error: 'dpop_mismatch' });
    refused(await thief.request('POST', '/logout', { token: pair.access_token }),
            'a stolen access token cannot log the owner out',
            { challenge: 'invalid_dpop_proof', error: 'dpop_mismatch' });
    refused(await thief.refresh(pair.refresh_token), 'a stolen refresh token: 401 dpop_mismatch',
            { challenge: 'invalid_dpop_proof', error: 'dpop_mismatch' });
    refused(await thief.request('POST', '/logout', { body: { refresh_token: pair.refresh_token } }),
            'a stolen refresh token cannot log the owner out',
            { challenge: 'invalid_dpop_proof', error: 'dpop_mismatch' });
    await stillSignedIn('after the thief\'s attempts');
    // The refused refresh used nothing up: the owner's refresh works (and nothing reads as reuse).
    pair = checkPair(await victim.refresh(pair.refresh_token), 'the owner refreshes after the theft');
  });

  await step('a bound token without any proof', async () => {
    refused(await meWith(null), 'Authorization: DPoP without a DPoP header: 401 dpop_required',
            { challenge: 'invalid_dpop_proof', error: 'dpop_required' });
    refused(await send(server.base, 'POST', '/refresh', { body: { refresh_token: pair.refresh_token } }),
            'a refresh token in the body without a DPoP header: 401 dpop_required',
            { challenge: 'invalid_dpop_proof', error: 'dpop_required' });
    refused(await send(server.base, 'GET', '/api/me',
                       { headers: { Cookie: `access_token=${pair.access_token}` } }),
            'the bound access token as a cookie: 401 dpop_required', { error: 'dpop_required' });
    refused(await send(server.base, 'POST', '/refresh',
                       { headers: { Cookie: `refresh_token=${pair.refresh_token}` } }),
            'the bound refresh token as a cookie: 401 dpop_required', { error: 'dpop_required' });
    refused(await send(server.base, 'GET', '/api/me', { headers: { Authorization: `Bearer ${pair.access_token}` } }),
            'the bound access token as a Bearer token (no proof): 401', {});
    await stillSignedIn('after requests without a proof');
  });

  await step('two DPoP headers', async () => {
    const a = await victim.proof('GET', '/api/me', pair.access_token);
    const b = await victim.proof('GET', '/api/me', pair.access_token);
    refused(await meWith([a, b]), 'two DPoP fields, each a valid proof: 401',
            { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(`${a}, ${b}`), 'two proofs joined in one field: 401',
            { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    // Neither was used up by the refusal.
    check((await meWith(a)).status === 200, 'a proof of the refused request still works alone');
  });

  await step('proofs dpop would never make (jose)', async () => {
    // Signed with the victim's own key, so that each is refused for its one defect, not as a
    // mismatch.
    const publicJwk = await jose.exportJWK(victim.keys.publicKey);
    const victimAth = await athOf(pair.access_token);
    const claims = (extra = {}) => ({ jti: webcrypto.randomUUID(), htm: 'GET',
                                      htu: `${server.base}/api/me`, iat: now(), ath: victimAth, ...extra });
    const good = await handMade(victim.keys, 'ES256', { jwk: publicJwk }, claims());
    check((await meWith(good)).status === 200, 'the hand-made proof itself is accepted');
    const privateJwk = await jose.exportJWK(victim.keys.privateKey);
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: privateJwk }, claims())),
            'a jwk carrying the private key', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const none = `${jose.base64url.encode(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: publicJwk }))}.` +
                 `${jose.base64url.encode(JSON.stringify(claims()))}.`;
    refused(await meWith(none), 'alg none (no signature)', { challenge: 'invalid_dpop_proof' });
    refused(await meWith(`${none}c2lnbmF0dXJl`), 'alg none with a signature',
            { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const secret = new Uint8Array(32).fill(7);
    const hs = await new jose.SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: jose.base64url.encode(secret) } })
      .sign(secret);
    refused(await meWith(hs), 'alg HS256 with the secret as jwk',
            { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk }, claims({ iat: now() - 120 }))),
            'a stale iat (120 s ago)', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk }, claims({ iat: now() + 120 }))),
            'an iat 120 s in the future', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const { ath: _unused, ...withoutAth } = claims();
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk }, withoutAth)),
            'no ath', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const otherAth = await athOf(pair.refresh_token);
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk }, claims({ ath: otherAth }))),
            'the ath of another token', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    const { jti: _none, ...withoutJti } = claims();
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk }, withoutJti)),
            'no jti', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    refused(await meWith(await handMade(victim.keys, 'ES256', { jwk: publicJwk, typ: 'JWT' }, claims())),
            'typ JWT', { challenge: 'invalid_dpop_proof', error: 'dpop_invalid' });
    await stillSignedIn('after the forged proofs');
  });

  await step('malformed token-mode requests: 400, never a crash', async () => {
    const proof = () => victim.proof('GET', '/api/me');
    refused(await send(server.base, 'GET', '/api/me', { headers: { DPoP: await proof(), Authorization: 'DPoP' } }),
            'Authorization: DPoP without a token: 400', { status: 400 });
    refused(await send(server.base, 'GET', '/api/me',
                       { headers: { DPoP: await proof(), Authorization: [`DPoP ${pair.access_token}`, 'DPoP x'] } }),
            'two Authorization fields: 400', { status: 400 });
    refused(await send(server.base, 'GET', '/api/me', { headers: { DPoP: await proof(), Host: 'a b' } }),
            'a malformed Host header: 400 malformed_request', { status: 400, error: 'malformed_request' });
    refused(await send(server.base, 'POST', '/refresh',
                       { headers: { DPoP: await victim.proof('POST', '/refresh') }, body: 'not json' }),
            'POST /refresh with a body that is not JSON: 400 malformed_body',
            { status: 400, error: 'malformed_body' });
    refused(await send(server.base, 'POST', '/login',
                       { headers: { DPoP: await victim.proof('POST', '/login') }, body: { username: 'alice' } }),
            'POST /login without a password: 400 malformed_body', { status: 400, error: 'malformed_body' });
    refused(await victim.login({ password: 'wrong' }), 'POST /login, wrong password: 401 invalid_credentials',
            { error: 'invalid_credentials' });
    refused(await send(server.base, 'GET', '/api/me', { headers: { DPoP: await proof() } }),
            'a proof and no token: 401, a challenge without error', { challenge: '', error: 'not_found' });
    refused(await victim.me('not-a-token'), 'a proof and a token that is none: 401 invalid_token',
            { challenge: 'invalid_token' });
    await stillSignedIn('after the malformed requests');
  });

  await step('cookie sessions are unchanged, and kept apart from token mode', async () => {
    const login = await send(server.base, 'POST', '/login',
                             { body: { username: 'alice', password: 'wonderland' } });
    const cookies = [].concat(login.headers['set-cookie'] ?? []);
    check(login.status === 200 && cookies.length === 2 && login.json?.access_token === undefined,
          'a login without a DPoP header sets both cookies (and no token in the body)', login.body);
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    const value = (name) => cookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0].slice(name.length + 1);
    check((await send(server.base, 'GET', '/api/me', { headers: { Cookie: jar } })).status === 200,
          'the cookie session works');
    // A DPoP request is never served from cookies, even from a page of another origin (Origin).
    refused(await send(server.base, 'GET', '/api/me',
                       { headers: { Cookie: jar, DPoP: await victim.proof('GET', '/api/me') } }),
            'cookies beside a DPoP header are ignored: 401', { challenge: '', error: 'not_found' });
    refused(await send(server.base, 'POST', '/logout',
                       { headers: { Cookie: jar, DPoP: await victim.proof('POST', '/logout'),
                                    Origin: 'https://evil.example' } }),
            'a cross-origin DPoP POST /logout with the cookies: 401, not a logout', { error: 'not_found' });
    check((await send(server.base, 'GET', '/api/me', { headers: { Cookie: jar } })).status === 200,
          'the cookie session survived it');
    const csrf = await send(server.base, 'POST', '/logout',
                            { headers: { Cookie: jar, Origin: 'https://evil.example' } });
    check(csrf.status === 403, 'a cross-origin cookie POST /logout is still 403 (CSRF)', csrf.body);
    // A cookie session's (unbound) tokens are refused in token mode, and nothing is used up.
    refused(await victim.me(value('access_token')), 'a cookie access token in token mode: 401',
            { challenge: 'invalid_token', error: 'missing_claim' });
    refused(await victim.refresh(value('refresh_token')), 'a cookie refresh token in token mode: 401',
            { challenge: 'invalid_token', error: 'missing_claim' });
    const cookieRefresh = await send(server.base, 'POST', '/refresh', { headers: { Cookie: jar } });
    check(cookieRefresh.status === 200 && [].concat(cookieRefresh.headers['set-cookie'] ?? []).length === 2,
          'the cookie refresh still works (nothing was used up)', cookieRefresh.body);
    // A token-mode login from another origin (a native app's web view, say) is no CSRF: it
    // sets no cookie.
    const foreign = await victim.request('POST', '/login', { headers: { Origin: 'https://elsewhere.example' },
                                                            body: { username: 'alice', password: 'wonderland' } });
    checkPair(foreign, 'a token-mode login with a foreign Origin');
  });

  await step('refresh rotation: a used refresh token is refused past reuse_grace', async () => {
    const clients = [await Client.create(server, 'ES256'), await Client.create(server, 'Ed25519')];
    const pairs = [];
    for (const client of clients) {
      const first = checkPair(await client.login(), 'login');
      const second = checkPair(await client.refresh(first.refresh_token), 'refresh');
      pairs.push({ client, first, second });
    }
    await advance(server, 11);  // past reuse_grace (10 s): a second use is theft, not a race
    for (const { client, first, second } of pairs) {
      refused(await client.refresh(first.refresh_token), 'the used refresh token, by its own key: 401 refresh_reused',
              { challenge: 'invalid_token', error: 'refresh_reused' });
      refused(await client.me(second.access_token), 'and reuse ended the session',
              { challenge: 'invalid_token', error: 'session_revoked' });
    }
  });

  // Last on this server: log out everywhere ends every session of alice.
  await step('your sessions and log out everywhere, in token mode', async () => {
    const laptop = await Client.create(server, 'ES256');
    const phone = await Client.create(server, 'Ed25519');
    const mine = checkPair(await laptop.login(), 'laptop login');
    const lost = checkPair(await phone.login(), 'phone login');
    const lostId = payloadOf(lost.access_token).sid;
    const revoked = await laptop.request('POST', `/api/sessions/${lostId}/revoke`, { token: mine.access_token });
    check(revoked.status === 200 && revoked.json?.revoked === lostId &&
          revoked.headers['set-cookie'] === undefined,
          'POST /api/sessions/{id}/revoke signs the phone out (no cookie touched)', revoked.body);
    refused(await phone.me(lost.access_token), 'the phone is signed out', { error: 'session_revoked' });
    refused(await phone.request('POST', `/api/sessions/${payloadOf(mine.access_token).sid}/revoke`,
                                { token: lost.access_token }),
            'and cannot sign the laptop out', { error: 'session_revoked' });
    const all = await laptop.request('POST', '/logout-all', { token: mine.access_token });
    check(all.status === 200 && all.json?.logged_out_everywhere === true &&
          all.headers['set-cookie'] === undefined, 'POST /logout-all', all.body);
    refused(await laptop.me(mine.access_token), 'then the laptop is signed out too',
            { challenge: 'invalid_token', error: 'version_mismatch' });
    refused(await send(server.base, 'POST', '/logout-all',
                       { headers: { Authorization: `DPoP ${mine.access_token}` } }),
            'POST /logout-all without a proof: 401 dpop_required', { error: 'dpop_required' });
  });

  const nonceServer = await startServer(['--dpop-nonce']);
  await step('--dpop-nonce: use_dpop_nonce, then the retry with the nonce passes', async () => {
    const client = await Client.create(nonceServer, 'ES256');
    const first = await client.request('POST', '/login', { retry: false,
                                                           body: { username: 'alice', password: 'wonderland' } });
    refused(first, 'a proof without a nonce: 401 use_dpop_nonce',
            { challenge: 'use_dpop_nonce', error: 'use_dpop_nonce' });
    check(typeof first.headers['dpop-nonce'] === 'string' && first.headers['dpop-nonce'].length > 0,
          'the refusal carries a DPoP-Nonce header', JSON.stringify(first.headers));
    const pair2 = checkPair(await client.request('POST', '/login', { retry: false,
                                                                    body: { username: 'alice', password: 'wonderland' } }),
                            'the retry with the nonce');
    const me = await client.me(pair2.access_token);
    check(me.status === 200 && typeof me.headers['dpop-nonce'] === 'string',
          'later requests carry the nonce, and each answer the current one', me.body);
    refused(await send(nonceServer.base, 'GET', '/api/me', {
      headers: { Authorization: `DPoP ${pair2.access_token}`,
                 DPoP: await DPoP.generateProof(client.keys, `${nonceServer.base}/api/me`, 'GET', 'made-up',
                                                pair2.access_token) } }),
            'a nonce the server never issued: 401 use_dpop_nonce', { challenge: 'use_dpop_nonce' });
    // The dpop client as an app would use it: every call retried once on use_dpop_nonce.
    const fresh = await Client.create(nonceServer, 'Ed25519');
    const pair3 = checkPair(await fresh.login(), 'a fresh client, retrying by itself');
    checkPair(await fresh.refresh(pair3.refresh_token), 'its refresh');
  });

  if (store === 'sqlite') {
    await step('two servers sharing one SQLite file: a proof is used once across both', async () => {
      // One key and one public origin, as servers behind one load balancer have: each accepts
      // the other's tokens, and a proof names the same URI on both.
      const key = join(work, 'key.pem');
      const made = spawnSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt',
                                         'ec_paramgen_curve:P-256', '-out', key]);
      if (!check(made.status === 0, 'openssl makes an EC key', String(made.stderr))) return;
      const shared = { storeFile: join(work, 'shared.db'), publicOrigin: 'https://app.example' };
      const one = await startServer(['--key', key], shared);
      const two = await startServer(['--key', key], shared);
      const client = await Client.create(one, 'ES256');
      const tokens = checkPair(await client.login(), 'login on the first server');
      const proof = await client.proof('GET', '/api/me', tokens.access_token);
      const meAt = (s, p) => send(s.base, 'GET', '/api/me',
                                  { headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: p } });
      check((await meAt(one, proof)).status === 200, 'a proof used on the first server');
      refused(await meAt(two, proof), 'the same proof on the second server: 401 dpop_replayed',
              { challenge: 'invalid_dpop_proof', error: 'dpop_replayed' });
      const fresh = await meAt(two, await client.proof('GET', '/api/me', tokens.access_token));
      check(fresh.status === 200, 'a fresh proof on the second server: the session is shared', fresh.body);
      client.server = two;
      checkPair(await client.refresh(tokens.refresh_token), 'the session refreshes on the second server');
    });
  }

  if (readmeClient) {
    await step('the README\'s token-mode client, as printed', async () => {
      // Run where it resolves 'dpop' as a user's project would: beside a node_modules (ours).
      const dir = mkdtempSync(join(tmpdir(), 'tegata-dpop-client-'));
      try {
        symlinkSync(join(here, 'node_modules'), join(dir, 'node_modules'), 'dir');
        copyFileSync(readmeClient, join(dir, 'dpop_client.mjs'));
        for (const s of [server, nonceServer]) {
          const r = spawnSync(process.execPath, [join(dir, 'dpop_client.mjs'), s.base],
                              { encoding: 'utf8', timeout: 30000 });
          check(r.status === 0 && /logged out/.test(r.stdout),
                `the README client against ${s === server ? 'the server' : 'the --dpop-nonce server'}`,
                `status ${r.status}\n${r.stdout}${r.stderr}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } else {
    console.log('(no --readme-client: the README client is not run)');
  }

  code = tally.failures === 0 ? 0 : 1;
} catch (error) {
  console.log(`FAIL: ${error.stack ?? error}`);
  code = 1;
} finally {
  for (const server of servers) {
    const exit = await stopServer(server);
    if (exit !== 0) {
      console.log(`FAIL: the server ${server.base} exited with ${exit} on SIGTERM`);
      code = 1;
    }
    if (code !== 0) console.log(`--- server log ${server.base}\n${server.log.join('')}`);
  }
}

console.log(`\n${code === 0 ? 'PASSED' : 'FAILED'}: ${tally.passes} passed, ${tally.failures} failed`);
process.exit(code);
