import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
// @ts-expect-error bin/ is plain JavaScript run before any TypeScript loader; no declarations.
import { build, currentBuild } from '../../bin/build.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('the bundle the program runs from (bin/build.mjs)', () => {
  it('runs the program, and is rebuilt when a source it was built from changes', async () => {
    const entry: string = await build();
    expect(currentBuild()).toBe(entry);
    const { stdout } = await run(process.execPath, [entry, 'help']);
    expect(stdout).toContain('Event-sourced MCP control plane and gateway');

    const source = join(ROOT, 'kernel', 'package-files.ts');
    const { atime, mtime } = statSync(source);
    try {
      utimesSync(source, atime, new Date(mtime.getTime() + 60_000));
      expect(currentBuild()).toBeUndefined();
      const rebuilt: string = await build();
      expect(rebuilt).not.toBe(entry);
      expect(currentBuild()).toBe(rebuilt);
    } finally {
      utimesSync(source, atime, mtime);
    }
    // Back as it was: the first build is the current one again, without building anything.
    expect(await build()).toBe(entry);
  });

  it('builds the audit verify thread beside the chunk that starts it, and the thread loads and ends', async () => {
    const entry: string = await build();
    const dir = dirname(entry);
    // parallel-verify.ts names the thread's module relative to its own chunk.
    const starters = readdirSync(dir).filter(
      (f) => f.endsWith('.js') && readFileSync(join(dir, f), 'utf8').includes('./audit-verify-thread.js'),
    );
    expect(starters).toHaveLength(1);
    const worker = new Worker(join(dir, 'audit-verify-thread.js'), {
      // Never connected: the pool opens a connection on its first query.
      workerData: { url: 'postgres://127.0.0.1:1/none', publicKeyPem: undefined },
    });
    const exited = once(worker, 'exit');
    worker.postMessage({ close: true });
    expect((await exited)[0]).toBe(0);
  });
});
