// The real entry point: starts `node dist/server.js` on a free port, makes a request, and checks
// that SIGTERM shuts it down cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));

it('listens, serves and shuts down on SIGTERM', { timeout: 20_000 }, async () => {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // pino logs one JSON object per line; Fastify logs "Server listening at <url>".
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        out += chunk;
        for (const line of out.split('\n')) {
          const match = /Server listening at (http:\/\/[^"\s]+)/.exec(line);
          if (match) resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
    });
    const res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, 'ok');
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  const code = child.exitCode ?? (await once(child, 'exit'))[0];
  assert.equal(code, 0);
});
