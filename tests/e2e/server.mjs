// The example server as the Node tests run it: a process on a free port (--port 0), ready once
// it prints "listening on <base URL>"; its stderr kept for the test's report; killed with the
// test process whatever ends it (a failure, a ctest timeout).
import { spawn } from 'node:child_process';

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
