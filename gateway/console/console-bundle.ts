import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { packageFile } from '../../kernel/package-files.ts';

/** One file of the console as the gateway serves it. */
export interface ConsoleAsset {
  body: Buffer;
  /** The same bytes gzipped once at build, for browsers that accept it. */
  gzipped: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The console's browser code (console/app/, Preact) bundled by esbuild in memory — the same build
 * tool that bundles the program at `npm start`, so there is no separate install or build command.
 * Built once per process, on first use (the gateway starts it in the background when it listens).
 */
export async function bundleConsole(): Promise<Map<string, ConsoleAsset>> {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: packageFile('.'),
    entryPoints: { console: packageFile('console/app/main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    write: false,
    outdir: '/console-assets',
    logLevel: 'error',
    legalComments: 'none',
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const ext = name.slice(name.lastIndexOf('.'));
    const body = Buffer.from(file.contents);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, gzipped: gzipSync(body), type: TYPES[ext] ?? 'application/octet-stream', etag });
  }
  return assets;
}

let pending: Promise<Map<string, ConsoleAsset>> | undefined;

/** The bundle, built on the first call; a failed build is tried again on the next call. */
export function consoleAssets(): Promise<Map<string, ConsoleAsset>> {
  pending ??= bundleConsole().catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}
