import { readFileSync } from 'node:fs';

/** The package version, read from package.json (which sits beside both src/ and dist/). */
function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version;
    }
  } catch {
    // A bundled or relocated build may not have package.json beside it.
  }
  return '0.0.0';
}

export const VERSION = readVersion();
