// Shared by the Node interop tests: runs the tegata CLI, keeps a scratch directory, counts
// checks. Every check that fails makes the process exit with status 1; a missing peer (no
// node_modules) exits with 77, which ctest reports as skipped, unless TEGATA_REQUIRE_INTEROP is
// set (as CI does), in which case it is a failure too.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

export const SKIP = 77;

// A fixed instant and claims, so every run checks the same thing.
export const NOW = 1700000000;
export const CLAIMS = Object.freeze({
  iss: 'https://issuer.example', sub: 'user-42', aud: 'interop', iat: NOW - 60, exp: NOW + 600,
  jti: 'id-1', name: 'Jos\u00e9 \u2713',
});

export const HMAC = ['HS256', 'HS384', 'HS512'];
export const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
export const ECDSA = ['ES256', 'ES384', 'ES512'];

// Parses "--tegata PATH [--algs A,B]" and makes sure the peer's packages are installed.
export function setup(peer) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const tegata = option('--tegata');
  if (!tegata) {
    console.error(`usage: node ${peer}_interop.mjs --tegata PATH [--algs ALG,...]`);
    process.exit(2);
  }
  const modules = join(dirname(fileURLToPath(import.meta.url)), 'node_modules', peer);
  if (!existsSync(modules)) {
    const message = `${peer} is not installed: run 'npm ci --prefix tests/interop'`;
    if (/^(1|on|true|yes)$/i.test(process.env.TEGATA_REQUIRE_INTEROP ?? '')) {
      console.error(`FAIL: ${message} (TEGATA_REQUIRE_INTEROP is set)`);
      process.exit(1);
    }
    console.log(`SKIP: ${message}`);
    process.exit(SKIP);
  }
  const algs = option('--algs')?.split(',');
  const dir = mkdtempSync(join(tmpdir(), `tegata-${peer}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { tegata, dir, only: (list) => (algs ? list.filter((a) => algs.includes(a)) : list) };
}

let failures = 0;
let passes = 0;

export function check(condition, what, detail = '') {
  if (condition) {
    passes += 1;
  } else {
    failures += 1;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return condition;
}

export const same = (a, b) => isDeepStrictEqual(a, b);

// Runs a named group of checks; an exception counts as a failure of that group.
export async function step(what, body) {
  const before = failures;
  try {
    await body();
  } catch (error) {
    check(false, what, `threw ${error?.stack ?? error}`);
  }
  console.log(`${failures === before ? 'ok  ' : 'FAIL'} ${what}`);
}

export function finish() {
  console.log(`${passes} checks passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

// Runs the tegata CLI; returns { status, stdout, stderr }.
export function tegata(ctx, args, input = '') {
  const r = spawnSync(ctx.tegata, args, { input, encoding: 'utf8' });
  // EPIPE: tegata exited (e.g. on a usage error) before reading its input; its status tells.
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// tegata verify on one token: the parsed claims when it said "ok", else the failure name.
export function tegataVerify(ctx, alg, keyArgs, token, extra = []) {
  const args = ['verify', '--alg', alg, ...keyArgs, '--now', String(NOW), '--iss', CLAIMS.iss,
    '--aud', CLAIMS.aud, ...extra];
  const r = tegata(ctx, args, `${token}\n`);
  const line = r.stdout.trim();
  if (r.status === 0 && line.startsWith('ok ')) {
    return { ok: true, claims: JSON.parse(line.slice(3)) };
  }
  return { ok: false, status: r.status, verdict: line || r.stderr.trim() };
}

// tegata sign with the fixed claims; throws with tegata's message when it fails.
export function tegataSign(ctx, alg, keyFile, extra = [], claims = CLAIMS) {
  const args = ['sign', '--alg', alg, '--key', keyFile, '--claims', JSON.stringify(claims), ...extra];
  const r = tegata(ctx, args);
  if (r.status !== 0) {
    throw new Error(`tegata sign ${alg} failed (${r.status}): ${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

export function tegataKeygen(ctx, alg, name, extra = []) {
  const file = join(ctx.dir, name);
  const r = tegata(ctx, ['keygen', '--alg', alg, '--out', file, ...extra]);
  if (r.status !== 0) throw new Error(`tegata keygen ${alg} failed: ${r.stderr.trim()}`);
  return file;
}

export function tegataJwks(ctx, files, extra = []) {
  const r = tegata(ctx, ['jwks', ...files.flatMap((f) => ['--key', f]), ...extra]);
  if (r.status !== 0) throw new Error(`tegata jwks failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

export function write(ctx, name, data) {
  const file = join(ctx.dir, name);
  writeFileSync(file, data, { mode: 0o600 });
  return file;
}

// The token with one character of its signature changed (still valid base64url).
export function tamper(token) {
  const i = token.length - 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}
