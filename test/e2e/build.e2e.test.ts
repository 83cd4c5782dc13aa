import { execFile } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
});
