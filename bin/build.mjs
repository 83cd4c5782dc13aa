// The program runs as JavaScript bundled from its TypeScript sources by esbuild: compiling every
// module through tsx's loader at start cost ~75 MB of resident memory and ~1 s. The bundle is
// rebuilt whenever a source it was built from changed (a few hundred stats, ~5 ms), so there is
// still no build step to forget; where the package directory cannot be written (a read-only
// install that was not built beforehand) or SWITCHYARD_BUILD=off, the sources run through tsx.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const MANIFEST = join(DIST, 'switchyard.json');
const ENTRY = 'cli/main.ts';
/** Worker threads' modules, built as entries of their own beside the program's chunks. */
const THREAD_ENTRIES = { 'audit-verify-thread': 'event-store/audit/verify-thread.ts' };
/** Builds no start has used for this long are removed (a running process may still load chunks). */
const KEEP_OLD_BUILDS_MS = 24 * 3600_000;

/** One value for the inputs' current state: their paths, sizes and modification times. */
function stampOf(inputs) {
  const hash = createHash('sha256');
  for (const input of inputs) {
    const s = statSync(join(ROOT, input));
    // Whole milliseconds, rounded as fs.Stats rounds its Dates: a time set back by utimes() from a
    // Stats Date gives the same stamp.
    hash.update(`${input}\0${s.size}\0${Math.round(s.mtimeMs)}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The entry of the bundle built from the sources as they are now, if there is one. */
export function currentBuild() {
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    if (stampOf(manifest.inputs) !== manifest.stamp) return undefined;
    const entry = join(DIST, manifest.dir, 'switchyard.js');
    statSync(entry);
    return entry;
  } catch {
    return undefined; // no manifest, an input gone, or its build removed: build again
  }
}

function pruneOldBuilds(keep) {
  for (const name of readdirSync(DIST)) {
    if (name === keep || !/^(b|tmp)-/.test(name)) continue;
    const dir = join(DIST, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > KEEP_OLD_BUILDS_MS)
        rmSync(dir, { recursive: true, force: true });
    } catch {
      // another start pruned it first
    }
  }
}

/** Bundles the sources into dist/b-<stamp>/ and points the manifest at it; the path of its entry. */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  mkdirSync(DIST, { recursive: true });
  const tmp = join(DIST, `tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const startedAt = Date.now();
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { switchyard: ENTRY, ...THREAD_ENTRIES },
    bundle: true,
    // Split so that modules the sources import lazily (the NATS and EventStoreDB adapters) stay
    // lazy: in one file, esbuild would hoist their packages' imports to the top.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    sourcemap: 'linked', // `node --enable-source-maps` maps stack traces back to the sources
    sourcesContent: false,
    metafile: true,
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs).sort();
  const changedDuringBuild = inputs.some((input) => statSync(join(ROOT, input)).mtimeMs >= startedAt);
  const stamp = stampOf(inputs);
  const dir = `b-${stamp}`;
  try {
    renameSync(tmp, join(DIST, dir));
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // the same build, finished first by another start
  }
  if (!changedDuringBuild) {
    const manifestTmp = `${tmp}.json`;
    writeFileSync(manifestTmp, JSON.stringify({ stamp, dir, inputs }));
    renameSync(manifestTmp, MANIFEST);
  }
  pruneOldBuilds(dir);
  return join(DIST, dir, 'switchyard.js');
}

/** The URL to import to run the program: the current bundle, built now if needed, or the sources. */
export async function programUrl() {
  if (process.env.SWITCHYARD_BUILD !== 'off') {
    const entry = currentBuild() ?? (await build().catch(() => undefined));
    if (entry) return pathToFileURL(entry).href;
  }
  const { register } = await import('tsx/esm/api');
  register();
  return pathToFileURL(join(ROOT, ENTRY)).href;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `node bin/build.mjs`: build ahead of time (a container image, a read-only install).
  console.log(await build());
}
