import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { TemplateManifest } from '../../domains/templates/manifest.ts';
import { AppError } from '../../kernel/errors.ts';
import { packageFile } from '../../kernel/package-files.ts';
import { ISSUE_CODES } from './issues.ts';
import type { TemplateFile } from './load.ts';

/** One file of a generated project. */
export interface RenderedFile {
  /** Posix, relative to the project root; checked not to escape it. */
  path: string;
  content: Buffer;
  executable?: boolean;
}

/** What rendering needs of a template: a {@link LoadedTemplate} fits, so does a test fixture. */
export interface RenderableTemplate {
  manifest: TemplateManifest;
  files: ReadonlyArray<
    Pick<TemplateFile, 'path' | 'content' | 'binary' | 'render'> & { executable?: boolean }
  >;
}

/**
 * Templates are rendered in a child process, never in a Switchyard process: nunjucks is not a
 * sandbox, and a template that reaches `range.constructor` would otherwise run code next to the
 * secret key and the database. The child (sandbox/child.mjs) runs with:
 *
 * - an empty environment and a fresh temp directory as its working directory;
 * - Node's permission model: it reads its own directory (sandbox/) and nunjucks, nothing else; it
 *   may not write files, start processes or worker threads, or load native addons;
 * - `--disallow-code-generation-from-strings` (nunjucks is made to compile with `vm` instead), so
 *   `Function("...")` and `eval` throw even if a template reaches them;
 * - a small heap (`--max-old-space-size`) and a wall-clock limit per render, after which it is
 *   killed and the render fails as "timed out";
 * - no `process`, `fetch`, `WebSocket` or `WebAssembly` globals once nunjucks is loaded, and
 *   `__proto__` switched off (`--disable-proto=throw`).
 *
 * The permission model of Node 20 does not restrict the network; the child is kept from it by
 * having no way to run code of the template's and no network API left in reach, not by the OS.
 *
 * One child serves a batch (a sync's validations, one generate) and is then discarded, so nothing
 * of one batch's templates meets another's. Starting one costs about what starting node does
 * (50-150 ms), and its first renders run cold: a batch takes ~0.1-0.3 s longer than in-process.
 */

export interface SandboxOptions {
  /** Wall-clock limit of one render (one template, one set of values); default 15 s. */
  timeoutMs?: number;
  /** V8 old-space limit of the child, MB; default 128. */
  maxOldSpaceMb?: number;
  /** Bytes of rendered text one render may produce; default 64 MiB. */
  maxOutputBytes?: number;
}

export const DEFAULT_SANDBOX: Readonly<Required<SandboxOptions>> = Object.freeze({
  timeoutMs: 15_000,
  maxOldSpaceMb: 128,
  maxOutputBytes: 64 * 1024 * 1024,
});

/** Renders templates in one sandboxed child, one render at a time; `close` when done. */
export interface TemplateRenderer {
  /**
   * Every path, and the content of every `render` file, rendered with `values`; other files are
   * copied byte for byte. Throws `AppError('validation', 'TEMPLATE.RENDER_FAILED' |
   * 'TEMPLATE.UNSAFE_EXPRESSION' | 'TEMPLATE.RENDER_TIMEOUT' | 'TEMPLATE.PATH_ESCAPES' |
   * 'TEMPLATE.DUPLICATE_PATH' | 'TEMPLATE.TOO_LARGE')` naming the file, or
   * `AppError('unavailable', 'TEMPLATE.RENDERER_UNAVAILABLE')` when no child can be started.
   */
  render(
    t: RenderableTemplate,
    values: Record<string, unknown>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<RenderedFile[]>;
  /** Ends the child (waiting for a render under way). */
  close(): Promise<void>;
}

const CHILD_ENTRY = packageFile('templates/engine/sandbox/child.mjs');
const STARTUP_TIMEOUT_MS = 10_000;

/** What the child may read: its own directory, and nunjucks with the packages it requires. */
interface ChildFiles {
  entry: string;
  nunjucksMain: string;
  readable: string[];
}

let childFiles: ChildFiles | undefined;

function packageRoot(file: string): string {
  let dir = path.dirname(file);
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function resolveChildFiles(): ChildFiles {
  if (childFiles) return childFiles;
  const entry = realpathSync(CHILD_ENTRY);
  const nunjucksMain = realpathSync(createRequire(import.meta.url).resolve('nunjucks'));
  const fromNunjucks = createRequire(nunjucksMain);
  const deps = ['asap', 'a-sync-waterfall'].map((d) => packageRoot(realpathSync(fromNunjucks.resolve(d))));
  childFiles = {
    entry,
    nunjucksMain,
    readable: [path.dirname(entry), packageRoot(nunjucksMain), ...deps].map((d) => `${d}${path.sep}`),
  };
  return childFiles;
}

/** `--permission` from Node 22.13 and 23.5; `--experimental-permission` before. */
function permissionFlag(): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13)
    ? '--permission'
    : '--experimental-permission';
}

/** The child's Node options, exported so a test can check what they forbid. */
export function sandboxExecArgv(maxOldSpaceMb: number = DEFAULT_SANDBOX.maxOldSpaceMb): string[] {
  return [
    permissionFlag(),
    ...resolveChildFiles().readable.map((p) => `--allow-fs-read=${p}`),
    '--disallow-code-generation-from-strings',
    '--no-addons',
    '--disable-proto=throw',
    `--max-old-space-size=${maxOldSpaceMb}`,
    '--disable-warning=ExperimentalWarning',
  ];
}

const RENDER_CODES = [
  ISSUE_CODES.RENDER_FAILED,
  ISSUE_CODES.UNSAFE_EXPRESSION,
  ISSUE_CODES.PATH_ESCAPES,
  ISSUE_CODES.DUPLICATE_PATH,
  ISSUE_CODES.TOO_LARGE,
] as const;

/** What the child says. It runs templates, so it is an edge: parsed, never trusted. */
const ChildMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), id: z.number(), done: z.number().int(), total: z.number().int() }),
  z.object({
    type: z.literal('file'),
    id: z.number(),
    index: z.number().int().nonnegative(),
    path: z.string().min(1).max(4096),
    content: z.string().nullable(),
  }),
  z.object({ type: z.literal('done'), id: z.number() }),
  z.object({
    type: z.literal('failed'),
    id: z.number(),
    code: z.enum(RENDER_CODES),
    message: z.string().max(10_000),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
]);
type ChildMessage = z.infer<typeof ChildMessage>;

/** A path the child reports must be one renderPath could have produced: relative, no `.` or `..`. */
function isSafeOutputPath(p: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\\\u0000-\u001f]/.test(p) || p.startsWith('/')) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

interface Child {
  process: ChildProcess;
  cwd: string;
  /** The last lines it wrote to stderr (V8's "heap out of memory" lands there). */
  stderr: () => string;
  /** Settles when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Key of the template whose files it holds. */
  loadedKey: number;
}

function unavailable(message: string): AppError {
  return new AppError('unavailable', 'TEMPLATE.RENDERER_UNAVAILABLE', `template renderer: ${message}`);
}

async function startChild(maxOldSpaceMb: number): Promise<Child> {
  const files = resolveChildFiles();
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'switchyard-render-'));
  let stderr = '';
  const cp = fork(files.entry, [files.nunjucksMain], {
    execPath: process.execPath,
    // Not inherited: the parent's (tsx's loader, inspector flags) are not the child's business.
    execArgv: sandboxExecArgv(maxOldSpaceMb),
    // Nothing of this process's environment (database URLs, keys) reaches the child.
    env: {},
    cwd,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  cp.stderr?.setEncoding('utf8');
  cp.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    cp.once('exit', (code, signal) => resolve({ code, signal }));
    // A child that could not be spawned emits 'error' and never 'exit'.
    cp.once('error', () => resolve({ code: null, signal: null }));
  });
  void exited.then(() => rm(cwd, { recursive: true, force: true }));
  const child: Child = { process: cp, cwd, stderr: () => stderr, exited, loadedKey: -1 };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cp.kill('SIGKILL');
      reject(unavailable(`no answer within ${STARTUP_TIMEOUT_MS / 1000} s of starting`));
    }, STARTUP_TIMEOUT_MS);
    const onMessage = (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type !== 'ready') return;
      clearTimeout(timer);
      cp.off('message', onMessage);
      resolve();
    };
    cp.on('message', onMessage);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').at(-1) ?? '';
      reject(unavailable(`exited on start (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`));
    });
  });
  return child;
}

function stopChild(child: Child): Promise<unknown> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  return child.exited;
}

/**
 * A renderer backed by one sandboxed child, started on the first render. A render that times out
 * or kills the child (out of memory) fails on its own; the next render starts a new child.
 */
export function openRenderer(options: SandboxOptions = {}): TemplateRenderer {
  const settings = { ...DEFAULT_SANDBOX, ...options };
  let child: Promise<Child> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let nextId = 0;
  let nextKey = 0;
  const keys = new WeakMap<RenderableTemplate, number>();

  const current = async (): Promise<Child> => {
    if (child) {
      const c = await child;
      // One that died between renders is replaced, not blamed on the next template.
      if (c.process.connected) return c;
      child = undefined;
    }
    const started = startChild(settings.maxOldSpaceMb);
    child = started;
    started.catch(() => {
      if (child === started) child = undefined;
    });
    return started;
  };
  const discard = (c: Child): Promise<unknown> => {
    child = undefined;
    return stopChild(c);
  };

  async function run(
    t: RenderableTemplate,
    values: Record<string, unknown>,
    onProgress: ((done: number, total: number) => void) | undefined,
  ): Promise<RenderedFile[]> {
    const c = await current();
    let key = keys.get(t);
    if (key === undefined) {
      key = nextKey++;
      keys.set(t, key);
    }
    const id = nextId++;
    const files = t.files;
    // The template's files go one message each (a 50 MiB template in one JSON message would need
    // twice that in the child's heap), and only once for the renders of one template. Only what
    // is rendered travels as text; files copied as they are stay here.
    const messages: object[] =
      c.loadedKey === key
        ? []
        : files.map((f, index) => ({
            type: 'source',
            key,
            index,
            total: files.length,
            path: f.path,
            render: f.render,
            content: f.render ? f.content.toString('utf8') : null,
          }));
    messages.push({
      type: 'render',
      id,
      key,
      total: files.length,
      values,
      maxOutputBytes: settings.maxOutputBytes,
    });
    c.loadedKey = key;

    return new Promise<RenderedFile[]>((resolve, reject) => {
      const out: RenderedFile[] = [];
      let done = 0;
      let settled = false;
      const finish = (error: AppError | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        c.process.off('message', onMessage);
        if (error) reject(error);
        else resolve(out);
      };
      // The file under way when it ended: the one after the last reported.
      const currentFile = () => files[Math.min(done, files.length - 1)]?.path;
      const failWith = (code: string, text: string, kill: boolean) => {
        const file = currentFile();
        if (kill) void discard(c);
        finish(
          new AppError(
            'validation',
            code,
            `${file ?? 'template'}: ${text}`,
            file === undefined ? {} : { file },
          ),
        );
      };
      const protocolError = (why: string) => {
        void discard(c);
        finish(new AppError('internal', 'TEMPLATE.RENDERER_PROTOCOL', `template renderer: ${why}`));
      };
      const timer = setTimeout(
        () =>
          failWith(ISSUE_CODES.RENDER_TIMEOUT, `render timed out after ${settings.timeoutMs / 1000} s`, true),
        settings.timeoutMs,
      );
      const onMessage = (raw: unknown) => {
        const parsed = ChildMessage.safeParse(raw);
        if (!parsed.success) return protocolError('unexpected message');
        const m: ChildMessage = parsed.data;
        if (m.type === 'ready' || m.id !== id) return;
        switch (m.type) {
          case 'progress':
            done = m.done;
            onProgress?.(m.done, m.total);
            return;
          case 'file': {
            const source = files[m.index];
            if (!source || (m.content === null) === source.render || !isSafeOutputPath(m.path)) {
              return protocolError(`file ${m.index} answered out of protocol`);
            }
            const content = m.content === null ? source.content : Buffer.from(m.content, 'utf8');
            out.push(
              source.executable ? { path: m.path, content, executable: true } : { path: m.path, content },
            );
            return;
          }
          case 'done':
            return finish(undefined);
          case 'failed':
            return finish(new AppError('validation', m.code, m.message, m.details));
          default: {
            const _: never = m;
            return _;
          }
        }
      };
      c.process.on('message', onMessage);
      void c.exited.then(({ code, signal }) => {
        if (settled) return;
        child = undefined;
        const oom = /heap out of memory|Allocation failed/i.test(c.stderr());
        failWith(
          ISSUE_CODES.RENDER_FAILED,
          oom
            ? `render ran out of memory (over ${settings.maxOldSpaceMb} MB)`
            : `the renderer stopped (${signal ?? `exit code ${code}`})`,
          false,
        );
      });
      for (const message of messages) {
        c.process.send(message, (err) => {
          if (err)
            failWith(ISSUE_CODES.RENDER_FAILED, `could not be sent to the renderer: ${err.message}`, true);
        });
      }
    });
  }

  return {
    render(t, values, onProgress) {
      const job = queue.then(() => run(t, values, onProgress));
      queue = job.catch(() => undefined);
      return job;
    },
    async close() {
      await queue;
      const c = await child?.catch(() => undefined);
      child = undefined;
      if (c) {
        // Asked to go, it goes (no one waits for that); one that lingers is killed.
        if (c.process.connected) c.process.disconnect();
        const timer = setTimeout(() => void stopChild(c), 1_000);
        timer.unref();
        void c.exited.then(() => clearTimeout(timer));
      }
    },
  };
}
