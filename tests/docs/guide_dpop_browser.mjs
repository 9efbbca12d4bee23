// docs/guide.md's WebCrypto client (<!-- snippet: dpop_browser -->), run by Node (which has
// WebCrypto and fetch as a browser page does) against the example server in token mode: once as
// it is, once with --dpop-nonce, where the block's retry on use_dpop_nonce must carry it
// through. The block is run as printed, after the three names it leaves to the reader (origin,
// username, password); what it leaves in login, me and refreshed is then checked.
//
// usage: node guide_dpop_browser.mjs --server PATH --snippet PATH --modules DIR --work DIR
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { startServer, stopServer } from '../e2e/harness.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, value, i, all) =>
    (i % 2 === 0 ? [...pairs, [value.replace(/^--/, ''), all[i + 1]]] : pairs), []));
for (const name of ['server', 'snippet', 'modules', 'work']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}

// The block as a module of its own, beside a node_modules that holds the pinned dpop package.
rmSync(args.work, { recursive: true, force: true });
mkdirSync(args.work, { recursive: true });
symlinkSync(args.modules, join(args.work, 'node_modules'), 'dir');
const program = join(args.work, 'client.mjs');
writeFileSync(program, `${[
  'globalThis.crypto ??= (await import("node:crypto")).webcrypto;',
  'const origin = process.env.ORIGIN;',
  "const username = 'alice', password = 'wonderland';",
  readFileSync(args.snippet, 'utf8'),
  'const body = await me.json();',
  'if (login.status !== 200 || me.status !== 200 || refreshed.status !== 200 ||',
  "    body.subject !== 'alice' || tokens.token_type !== 'DPoP' ||",
  "    typeof tokens.access_token !== 'string') {",
  '  console.log(`FAIL ${login.status} ${me.status} ${refreshed.status} ${JSON.stringify(body)}`);',
  '  process.exit(1);',
  '}',
  "console.log('ok');",
].join('\n')}\n`);

let failed = false;
for (const extra of [[], ['--dpop-nonce']]) {
  const server = await startServer(args.server, ['--insecure-http', ...extra]);
  try {
    const run = spawnSync(process.execPath, [program], {
      env: { ...process.env, ORIGIN: server.base }, encoding: 'utf8', timeout: 30000 });
    const out = `${run.stdout}${run.stderr}`.trim();
    console.log(`${extra.join(' ') || '(no options)'}: ${out}`);
    if (run.status !== 0 || out !== 'ok') failed = true;
  } finally {
    await stopServer(server);
  }
}
console.log(failed ? 'FAIL' : 'all ok');
process.exit(failed ? 1 : 0);
