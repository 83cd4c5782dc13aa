import { lstat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AppError } from '../kernel/errors.ts';

/** Folders that hold generated or vendored files: counting them would describe someone else's code. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([
  '.git',
  'node_modules',
  'dist',
  'build',
  'coverage',
  '.switchyard-tmp',
  '.next',
  '.turbo',
]);

/** A regular file found by the walk. */
export interface FoundFile {
  path: string;
  /** Relative to the analysed directory with `/` separators (the base name when a file was given). */
  relative: string;
}

export interface WalkOptions {
  maxFiles: number;
  signal?: AbortSignal | undefined;
}

/** Between files and folders: an aborted analysis stops at the next step, not at the end. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof AppError) throw reason;
  const detail = reason instanceof Error ? reason.message : 'aborted';
  throw new AppError('timeout', 'ANALYSIS.ABORTED', `code analysis stopped: ${detail}`);
}

/**
 * Every regular file under `root` (or `root` itself when it is a file), sorted by path. Symbolic
 * links are never followed, so a link cannot lead the analysis outside the folder it was given;
 * the walk stops as soon as it passes `maxFiles` rather than listing a huge tree first.
 */
export async function findFiles(root: string, options: WalkOptions): Promise<FoundFile[]> {
  const top = await lstat(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      throw new AppError('not_found', 'ANALYSIS.PATH_NOT_FOUND', `nothing to analyse at ${root}`);
    }
    throw e;
  });
  if (top.isFile()) return [{ path: root, relative: basename(root) }];
  if (!top.isDirectory()) {
    throw new AppError(
      'validation',
      'ANALYSIS.NOT_A_DIRECTORY',
      `${root} is neither a directory nor a regular file (symbolic links are not followed)`,
    );
  }

  const found: FoundFile[] = [];
  const pending: Array<{ path: string; relative: string }> = [{ path: root, relative: '' }];
  let visited = 0;
  for (let dir = pending.pop(); dir; dir = pending.pop()) {
    throwIfAborted(options.signal);
    if (++visited % 32 === 0) await yieldToEventLoop();
    const entries = await readdir(dir.path, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir.path, entry.name);
      const relative = dir.relative ? `${dir.relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) pending.push({ path, relative });
      } else if (entry.isFile()) {
        if (found.length === options.maxFiles) {
          throw new AppError(
            'validation',
            'ANALYSIS.TOO_MANY_FILES',
            `more than ${options.maxFiles} files to analyse; choose a smaller directory`,
            { maxFiles: options.maxFiles },
          );
        }
        found.push({ path, relative });
      }
      // Symbolic links, sockets, FIFOs and devices are left alone.
    }
  }
  return found.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
}
