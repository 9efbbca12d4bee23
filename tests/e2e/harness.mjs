// What the Node end-to-end tests share: skipping when a tool is missing, counting checks, and the
// example server as they run it: a process on a free port (--port 0), ready once it prints
// "listening on <base URL>"; its stderr kept for the test's report; killed with the test process
// whatever ends it (a failure, a ctest timeout).
import { spawn } from 'node:child_process';

// The value after a command-line option (--name VALUE), or fallback.
export function option(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

// ctest's SKIP_RETURN_CODE for these tests.
export const SKIP = 77;

// A prerequisite is missing: skip, or fail where TEGATA_REQUIRE_E2E says the test must run (CI).
export function skip(why) {
  if (/^(1|on|true|yes)$/i.test(process.env.TEGATA_REQUIRE_E2E ?? '')) {
    console.log(`FAIL: ${why} (TEGATA_REQUIRE_E2E is set)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

// Every check prints one line; the counts decide the test's result.
export const tally = { passes: 0, failures: 0 };
export function check(condition, what, detail = '') {
  if (condition) {
    tally.passes += 1;
    console.log(`ok   ${what}`);
  } else {
    tally.failures += 1;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
  }
  return condition;
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
});
// A signal (ctest's timeout) ends the test through 'exit', so that the servers go too.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

// Resolves to { child, base, log } when the server listens; rejects if it exits first or does
// not listen within 20 s.
export function startServer(path, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const log = [];
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, base: match[1], log });
      }
    });
    child.stderr.on('data', (chunk) => log.push(String(chunk)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`server exited with ${code} before listening: ${out}`));
    });
  });
}

// SIGTERM, then SIGKILL after 5 s; resolves to the exit code.
export function stopServer(server) {
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
