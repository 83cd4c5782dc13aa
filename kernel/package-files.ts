import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory, found by walking up from this module: the sources run in place
 * (tsx, the tests) or bundled under dist/ (bin/build.mjs), and a path relative to one module's URL
 * would differ between the two.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'switchyard'
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`the switchyard package root is not above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findRoot();

/** A file shipped with the package, by its path from the package root. */
export const packageFile = (relative: string): string => join(PACKAGE_ROOT, relative);
