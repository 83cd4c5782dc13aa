import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

/** Test helpers: temp dirs cleaned up by the caller's afterEach, and whole trees in one call. */

export async function makeTempDirs(): Promise<{ make: () => Promise<string>; cleanup: () => Promise<void> }> {
  const made: string[] = [];
  return {
    make: async () => {
      // Resolved, so paths compare equal where the temp dir is behind a symlink (macOS /var).
      const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'switchyard-engine-')));
      made.push(dir);
      return dir;
    },
    cleanup: async () => {
      await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Writes `files` (posix paths → content) under `dir`, creating directories. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const target = path.join(dir, ...rel.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** A valid manifest, as YAML text, with `overrides` merged in. */
export function manifestYaml(overrides: Record<string, unknown> = {}): string {
  return stringify({
    name: 'demo',
    version: '1.0.0',
    stack: 'node-cli',
    description: 'A demo template',
    ...overrides,
  });
}

/** The first bytes of a PNG: a real binary signature with NUL bytes in it. */
export const PNG_BYTES = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
  0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x7b, 0x7b, 0x20,
  0x78,
]);
