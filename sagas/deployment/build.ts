import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Request, RunSpec, StepResult } from '../../domains/deployments/index.ts';
import { AppError } from '../../kernel/errors.ts';

/** Where deployments find their sources and put their builds. */
export interface BuildDirs {
  /** Generated projects and workspace directories are read from here. */
  workspaceRoot: string;
  /** Each deployment builds in `<deployRoot>/<server>/<deployment>`; runners start revisions from there. */
  deployRoot: string;
}

export interface BuildContext {
  request: Request;
  dirs: BuildDirs;
  /** For a rollback: the build result of the deployment that put that revision live. */
  earlierBuild: StepResult | undefined;
  signal: AbortSignal;
  /** Each chunk of the build's output, as it comes (progress), besides the captured log. */
  onOutput?: (text: string) => void;
}

export interface BuildOutcome {
  result: StepResult;
  log: string;
}

/** Switchyard's own settings and connection strings never reach a build (nor a server: host-spec.ts). */
const NEVER = /^(SWITCHYARD_|DATABASE_URL$|NATS_URL$|EVENTSTORE_URL$|PG[A-Z]*$|NODE_OPTIONS$|npm_)/;

/** The environment a build runs in: this process's, without Switchyard's own settings and secrets. */
export function buildEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !NEVER.test(k)) out[k] = v;
  out.CI = 'true';
  return out;
}

/** The directory a deployment builds in. */
export function buildDirOf(dirs: BuildDirs, request: Request): string {
  return join(dirs.deployRoot, request.serverName, request.deploymentId);
}

/** Removes a build this deployment made (compensation); a rollback's reused build is not its to remove. */
export async function removeBuild(dirs: BuildDirs, request: Request): Promise<string> {
  if (request.source.kind === 'revision') return 'the rollback reused an earlier build: nothing to remove';
  const dir = buildDirOf(dirs, request);
  await rm(dir, { recursive: true, force: true });
  // Said without the path: notes reach the read model and callers, the host's layout does not.
  return 'removed the build directory';
}

/**
 * Builds a revision: the source copied (or installed from npm) into its own directory, its
 * dependencies installed and its build script run, output captured, within the step's time.
 * Answers how the revision runs: its `run` command if the request gave one, else `node` on the
 * package's bin (or main).
 */
export async function buildRevision(ctx: BuildContext): Promise<BuildOutcome> {
  const { request, dirs } = ctx;
  const log = new LogTail(ctx.onOutput);
  if (request.source.kind === 'revision') {
    const earlier = ctx.earlierBuild;
    if (!earlier?.dir || !earlier.command) {
      throw new AppError(
        'not_found',
        'DEPLOYMENT.BUILD_GONE',
        'the earlier deployment left no build to reuse',
      );
    }
    if (!(await exists(earlier.dir))) {
      throw new AppError(
        'not_found',
        'DEPLOYMENT.BUILD_GONE',
        `the build of revision ${request.source.revision} is gone from the deployment volume`,
      );
    }
    log.write(`reusing the build of revision ${request.source.revision}\n`);
    return {
      result: {
        dir: earlier.dir,
        command: earlier.command,
        args: earlier.args ?? [],
        cwd: earlier.cwd ?? earlier.dir,
      },
      log: log.text(),
    };
  }
  const dir = buildDirOf(dirs, request);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const run = (command: string, args: string[]) => runLogged(command, args, dir, ctx.signal, log);

  let packageDir = dir;
  if (request.source.kind === 'npm') {
    const spec = `${request.source.package}@${request.source.version}`;
    await writeJson(join(dir, 'package.json'), { name: 'switchyard-deployment', private: true });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-exact', spec]);
    packageDir = join(dir, 'node_modules', ...request.source.package.split('/'));
  } else {
    const from = await insideWorkspace(dirs.workspaceRoot, request.source.path);
    log.write(`copying ${request.source.path} into the build directory\n`);
    await cp(from, dir, {
      recursive: true,
      // What the build makes again, and what is not the project's to ship.
      filter: (src) => !/(^|[/\\])(node_modules|\.git)([/\\]|$)/.test(relative(from, src)),
    });
    const pkg = await readPackage(dir);
    if (pkg) {
      const lock = await exists(join(dir, 'package-lock.json'));
      await run('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund', '--prefer-offline']);
      if (typeof pkg.scripts?.build === 'string') await run('npm', ['run', 'build']);
    }
  }
  const how = request.run ?? (await packageEntry(packageDir));
  if (!how) {
    throw new AppError(
      'validation',
      'DEPLOYMENT.NOTHING_TO_RUN',
      'nothing to run: the package has no bin or main, and the request gave no run command',
    );
  }
  return { result: { dir, command: how.command, args: how.args, cwd: dir }, log: log.text() };
}

/** The source directory, resolved through symlinks, refused when it is not inside the workspace. */
async function insideWorkspace(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(resolve(realRoot, path));
  } catch {
    throw new AppError('not_found', 'DEPLOYMENT.SOURCE_NOT_FOUND', `no directory ${path} in the workspace`);
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new AppError('validation', 'DEPLOYMENT.SOURCE_OUTSIDE', `${path} is not inside the workspace`);
  }
  if (!(await stat(real)).isDirectory()) {
    throw new AppError('validation', 'DEPLOYMENT.SOURCE_NOT_DIRECTORY', `${path} is not a directory`);
  }
  return real;
}

interface PackageJson {
  main?: unknown;
  bin?: unknown;
  scripts?: Record<string, unknown>;
}

async function readPackage(dir: string): Promise<PackageJson | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** `node <bin>` (the first bin), else `node <main>`, with the path absolute. */
async function packageEntry(dir: string): Promise<RunSpec | undefined> {
  const pkg = await readPackage(dir);
  if (!pkg) return undefined;
  const bin =
    typeof pkg.bin === 'string'
      ? pkg.bin
      : pkg.bin && typeof pkg.bin === 'object'
        ? Object.values(pkg.bin as Record<string, unknown>).find((v) => typeof v === 'string')
        : undefined;
  const entry = (bin ?? (typeof pkg.main === 'string' ? pkg.main : undefined)) as string | undefined;
  if (!entry) return undefined;
  const file = resolve(dir, entry);
  if (relative(dir, file).startsWith('..')) return undefined;
  return { command: process.execPath, args: [file] };
}

/** A process's output kept to its tail, handed on as it comes. */
class LogTail {
  #text = '';
  constructor(private readonly onOutput?: (text: string) => void) {}
  write(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > 64_000) this.#text = this.#text.slice(-32_000);
    this.onOutput?.(chunk);
  }
  text(): string {
    return this.#text;
  }
}

/** Runs a command in its own process group, output to the log; killed (the whole group) on abort. */
function runLogged(
  command: string,
  args: string[],
  cwd: string,
  signal: AbortSignal,
  log: LogTail,
): Promise<void> {
  log.write(`$ ${command} ${args.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const child = spawn(command, args, {
      cwd,
      env: buildEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => log.write(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => log.write(d));
    child.on('error', (e) => {
      signal.removeEventListener('abort', kill);
      reject(
        new AppError('unavailable', 'DEPLOYMENT.BUILD_FAILED', `${command} could not start: ${e.message}`),
      );
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', kill);
      if (signal.aborted) return reject(signal.reason);
      if (code === 0) return resolvePromise();
      reject(
        new AppError(
          'validation',
          'DEPLOYMENT.BUILD_FAILED',
          `${command} ${args[0] ?? ''} failed (${sig ? `signal ${sig}` : `exit code ${code}`})`,
        ),
      );
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
