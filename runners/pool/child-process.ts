import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { killGroup, signalGroup } from './process-tree.ts';

export interface SpawnServerOptions {
  command: string;
  args: string[];
  /** The complete environment of the child: nothing of ours is added to it. */
  env: Record<string, string>;
  cwd?: string | undefined;
  /** Gets each stderr line of the child. */
  logger: Logger;
  /** Longest stderr line logged; the rest is cut (default 2000 characters). */
  maxLineLength?: number;
  /** Also gets each stderr line (for the runner's recent-stderr view). */
  onStderr?: (line: string, pid: number) => void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A stdio server process, the leader of its own process group. */
export interface ServerProcess {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves when the leader has exited (its descendants may still run: see `kill`). */
  readonly exited: Promise<ProcessExit>;
  /** The last few stderr lines, for error messages ("exited with code 1: Error: …"). */
  recentStderr(): string[];
  /**
   * Ends the whole tree: closes stdin (a well-behaved MCP server exits on EOF), then SIGTERM to the
   * group, SIGKILL after `graceMs`. Resolves once no process of the group is alive.
   */
  kill(graceMs: number): Promise<void>;
}

// Safety net for the runner dying with processes still up: on a normal exit (including
// process.exit() after an uncaught error) SIGKILL every group we still own. Module state, because
// 'exit' handlers are process-wide and must not pile up one per pool.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const g of liveGroups) signalGroup(g, 'SIGKILL');
  });
}

/** Process groups started here and not yet reaped (for tests and diagnostics). */
export function liveProcessGroups(): number[] {
  return [...liveGroups];
}

/**
 * Starts a stdio server detached into its own process group with exactly the given environment.
 * Rejects with AppError('upstream', 'UPSTREAM.SPAWN_FAILED') when the command cannot be started.
 */
export function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const maxLine = options.maxLineLength ?? 2000;
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(options.command, options.args, {
        env: options.env,
        cwd: options.cwd,
        // Own process group: stop signals the group, so no grandchild is orphaned.
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
    } catch (e) {
      reject(spawnFailed(options.command, e));
      return;
    }
    const stderr: string[] = [];
    const log = options.logger;
    const exited = new Promise<ProcessExit>((res) => {
      child.once('exit', (code, signal) => res({ code, signal }));
    });
    child.once('error', (e) => {
      // Before 'spawn' this is "command not found" or similar; after, an error to report only.
      if (child.pid === undefined) reject(spawnFailed(options.command, e));
      else log.warn({ err: e.message }, 'server process error');
    });
    // EPIPE when writing to a process that just died: the exit path reports it.
    child.stdin.on('error', () => {});
    splitLines(child.stderr, maxLine, (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
      log.info({ stderr: line }, 'server stderr');
      if (child.pid !== undefined) options.onStderr?.(line, child.pid);
    });
    child.once('spawn', () => {
      const pid = child.pid!;
      trackGroup(pid);
      let killing: Promise<void> | undefined;
      resolve({
        pid,
        stdin: child.stdin,
        stdout: child.stdout,
        exited,
        recentStderr: () => [...stderr],
        kill(graceMs) {
          killing ??= (async () => {
            child.stdin.end();
            // A moment to exit on EOF, as the MCP stdio transport asks clients to allow; then the
            // group, which also catches descendants still running after the leader left.
            await Promise.race([exited, new Promise((r) => setTimeout(r, Math.min(graceMs, 500)))]);
            await killGroup(pid, graceMs);
            await exited;
            liveGroups.delete(pid);
          })();
          return killing;
        },
      });
    });
  });
}

function spawnFailed(command: string, e: unknown): AppError {
  const message = e instanceof Error ? e.message : String(e);
  return new AppError('upstream', 'UPSTREAM.SPAWN_FAILED', `could not start '${command}': ${message}`, {
    command,
  });
}

/** Calls `onLine` per line; a line longer than `max` is cut there (the rest of it dropped). */
function splitLines(stream: Readable, max: number, onLine: (line: string) => void): void {
  let pending = '';
  let skipping = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      if (!skipping && line.length > 0) onLine(cut(line, max));
      skipping = false;
      nl = pending.indexOf('\n');
    }
    if (pending.length > max) {
      // Memory stays bounded whatever a server writes without a newline.
      if (!skipping) onLine(cut(pending, max));
      skipping = true;
      pending = '';
    }
  });
  stream.on('end', () => {
    if (!skipping && pending.length > 0) onLine(cut(pending, max));
  });
}

function cut(line: string, max: number): string {
  return line.length > max ? `${line.slice(0, max)}… [cut]` : line;
}
