import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../kernel/errors.ts';
import type { RenderedFile } from './render.ts';

/**
 * Generated projects land under a workspace root the operator chose; a destination comes from a
 * user (an MCP client, an HTTP body) and must not reach outside it, by `..`, an absolute path or a
 * symlink planted inside the workspace.
 */

/** Scratch space for atomic writes: inside the root, so renames stay on one filesystem. */
export const TMP_DIR = '.switchyard-tmp';

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

async function lstatOrUndefined(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The absolute path of `relPath` under `root`, after checking it: relative, no `..`, no NUL, and
 * every part that exists resolves (through any symlinks) to a place under the root. `''` and `.`
 * mean the root itself, allowed only with `mustExist` (reading, never writing over the workspace).
 * Without `mustExist` (writing), the last part may not be a symlink at all. Existing parts are
 * returned resolved, so later writes go where the check looked.
 */
export async function resolveInWorkspace(
  root: string,
  relPath: string,
  options: { mustExist: boolean },
): Promise<string> {
  if (relPath.includes('\0')) {
    throw new AppError('validation', 'WORKSPACE.INVALID_PATH', 'destination contains a NUL character');
  }
  if (path.isAbsolute(relPath) || path.win32.isAbsolute(relPath)) {
    throw new AppError(
      'validation',
      'WORKSPACE.ABSOLUTE_PATH',
      `destination must be relative to the workspace root, got ${relPath}`,
    );
  }
  const segments = relPath.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new AppError(
      'validation',
      'WORKSPACE.PATH_ESCAPES',
      `destination may not contain "..", got ${relPath}`,
    );
  }
  if (segments.length === 0 && !options.mustExist) {
    throw new AppError(
      'validation',
      'WORKSPACE.ROOT_NOT_ALLOWED',
      'destination must be a directory below the workspace root, not the root itself',
    );
  }
  let rootReal: string;
  try {
    rootReal = await realpath(root);
  } catch (e) {
    throw new AppError(
      'unavailable',
      'WORKSPACE.UNAVAILABLE',
      `workspace root ${root}: ${(e as Error).message}`,
    );
  }
  let current = rootReal;
  for (const [i, segment] of segments.entries()) {
    const next = path.join(current, segment);
    const s = await lstatOrUndefined(next);
    if (s === undefined) {
      if (options.mustExist) {
        throw new AppError('not_found', 'WORKSPACE.NOT_FOUND', `${relPath} does not exist in the workspace`);
      }
      return path.join(next, ...segments.slice(i + 1));
    }
    if (s.isSymbolicLink()) {
      // Writing replaces the destination directory: through a link, it would replace another
      // directory than the one named (checked, and recorded, under a name it does not have).
      if (!options.mustExist && i === segments.length - 1) {
        throw new AppError(
          'validation',
          'WORKSPACE.DESTINATION_IS_SYMLINK',
          `${relPath} is a symbolic link; give the directory itself as the destination`,
        );
      }
      const target = await realpath(next).catch(() => undefined);
      if (target === undefined || !isInside(rootReal, target)) {
        throw new AppError(
          'validation',
          'WORKSPACE.SYMLINK_ESCAPES',
          `${segments.slice(0, i + 1).join('/')} is a symbolic link leading outside the workspace (or nowhere)`,
        );
      }
      current = target;
    } else {
      current = next;
    }
  }
  return current;
}

/**
 * What is at a (resolved) destination: nothing a generation would replace (`free`: absent, or an
 * empty directory), a directory with something in it (`in-use`), or something else (`not-a-directory`).
 */
export async function destinationState(dest: string): Promise<'free' | 'in-use' | 'not-a-directory'> {
  const s = await lstatOrUndefined(dest);
  if (s === undefined) return 'free';
  if (!s.isDirectory()) return 'not-a-directory';
  return (await readdir(dest)).length > 0 ? 'in-use' : 'free';
}

/** The refusals of {@link destinationState}'s answers, as the writer and a preview both give them. */
export function destinationRefusal(state: 'in-use' | 'not-a-directory', relDestination: string): AppError {
  return state === 'in-use'
    ? new AppError(
        'conflict',
        'WORKSPACE.DESTINATION_NOT_EMPTY',
        `${relDestination} exists and is not empty; choose another destination or overwrite it`,
      )
    : new AppError(
        'conflict',
        'WORKSPACE.NOT_A_DIRECTORY',
        `${relDestination} exists and is not a directory`,
      );
}

/** Rejects output paths that are not plain relative posix paths; render already does, this is the last line. */
function checkOutputPaths(files: readonly RenderedFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is refused
    if (parts.some((p) => p === '' || p === '.' || p === '..' || /[\\\u0000]/.test(p))) {
      throw new AppError(
        'validation',
        'WORKSPACE.PATH_ESCAPES',
        `output path ${JSON.stringify(f.path)} is not allowed`,
      );
    }
    if (seen.has(f.path)) {
      throw new AppError('validation', 'WORKSPACE.DUPLICATE_PATH', `output path ${f.path} is given twice`);
    }
    seen.add(f.path);
  }
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (seen.has(dir)) {
        throw new AppError(
          'validation',
          'WORKSPACE.PATH_CONFLICT',
          `${dir} is both a file and the directory of ${f.path}`,
        );
      }
    }
  }
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the files themselves were synced.
  } finally {
    await handle.close();
  }
}

/** A fresh, empty directory under `<root>/.switchyard-tmp`, refusing a planted symlink there. */
async function makeTempDir(rootReal: string, prefix: string): Promise<string> {
  const base = path.join(rootReal, TMP_DIR);
  await mkdir(base, { recursive: true });
  const s = await lstat(base);
  if (!s.isDirectory()) {
    throw new AppError('conflict', 'WORKSPACE.TMP_UNUSABLE', `${base} is not a plain directory`);
  }
  const dir = path.join(base, `${prefix}${randomBytes(8).toString('hex')}`);
  try {
    await mkdir(dir);
  } catch (e) {
    // Another write may have just removed the (then empty) base directory: make it again, once.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(base, { recursive: true });
    await mkdir(dir);
  }
  return dir;
}

/** Best effort: an empty scratch directory is not left behind in the user's workspace. */
async function removeTmpBaseIfEmpty(rootReal: string): Promise<void> {
  await rmdir(path.join(rootReal, TMP_DIR)).catch(() => undefined);
}

/** Removes the empty directories from `dir` up to and including `top` (those this write created). */
async function removeCreatedParents(dir: string, top: string): Promise<void> {
  for (let d = dir; isInside(top, d); d = path.dirname(d)) {
    if (
      !(await rmdir(d).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (d === top) return;
  }
}

/** A file as a generation recorded it. */
export interface WrittenFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Whether `dir` still holds at least one of `files` as it was written (same size and sha256):
 * evidence that the directory is the project recorded there, and not something put in its place
 * since. Only regular files reached through plain directories count; no symlink is followed.
 */
export async function holdsAnyOf(dir: string, files: readonly WrittenFile[]): Promise<boolean> {
  // Smallest first: the likeliest to be left as written (a .gitignore, a LICENSE), and the cheapest.
  const bySize = [...files].sort((a, b) => a.size - b.size);
  for (const f of bySize) {
    const parts = f.path.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) continue;
    let plain = true;
    for (let i = 1; i < parts.length && plain; i++) {
      const s = await lstatOrUndefined(path.join(dir, ...parts.slice(0, i))).catch(() => undefined);
      plain = s?.isDirectory() === true;
    }
    if (!plain) continue;
    const target = path.join(dir, ...parts);
    const s = await lstatOrUndefined(target).catch(() => undefined);
    if (!s?.isFile() || s.size !== f.size) continue;
    const handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
    if (handle === undefined) continue;
    try {
      const content = await handle.readFile();
      if (createHash('sha256').update(content).digest('hex') === f.sha256) return true;
    } catch {
      // Unreadable: not evidence either way; try the next file.
    } finally {
      await handle.close();
    }
  }
  return false;
}

/**
 * Writes a generated project to `relDestination` under `root`, all or nothing: files go to a fresh
 * directory under `<root>/.switchyard-tmp`, are fsynced, and the directory is renamed into place.
 * A non-empty destination is refused unless `overwrite`; then `mayReplace` (the caller's policy:
 * which directories it may replace) is asked first, and may refuse by throwing. The old directory
 * is moved aside, replaced, then removed (and put back if the replacement fails). Missing parents
 * are created. On any failure the scratch directory is removed and the destination is as it was.
 * Returns the absolute destination and what was written, sorted by path.
 */
export async function writeProjectAtomically(
  root: string,
  relDestination: string,
  files: RenderedFile[],
  options: {
    overwrite: boolean;
    /** Called with the absolute destination before a non-empty one is replaced; throws to refuse. */
    mayReplace?: (dest: string) => Promise<void>;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<{ path: string; files: WrittenFile[] }> {
  const dest = await resolveInWorkspace(root, relDestination, { mustExist: false });
  const rootReal = await realpath(root);
  if (path.relative(rootReal, dest).split(path.sep)[0] === TMP_DIR) {
    throw new AppError(
      'validation',
      'WORKSPACE.RESERVED_PATH',
      `${TMP_DIR} is reserved for Switchyard's own use`,
    );
  }
  checkOutputPaths(files);

  const state = await destinationState(dest);
  if (state === 'not-a-directory') throw destinationRefusal(state, relDestination);
  if (state === 'in-use') {
    if (!options.overwrite) throw destinationRefusal(state, relDestination);
    await options.mayReplace?.(dest);
  }
  // An empty directory is replaced like a full one, without asking: nothing in it is lost.
  const existing = (await lstatOrUndefined(dest)) !== undefined;

  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const written: WrittenFile[] = [];
  const tmp = await makeTempDir(rootReal, 'new-');
  let aside: string | undefined;
  let createdParent: string | undefined;
  try {
    const dirs = new Set<string>([tmp]);
    for (const [i, file] of sorted.entries()) {
      const target = path.join(tmp, ...file.path.split('/'));
      const parent = path.dirname(target);
      if (!dirs.has(parent)) {
        await mkdir(parent, { recursive: true });
        dirs.add(parent);
      }
      const handle = await open(target, 'wx', file.executable ? 0o777 : 0o666);
      try {
        await handle.writeFile(file.content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      written.push({
        path: file.path,
        size: file.content.length,
        sha256: createHash('sha256').update(file.content).digest('hex'),
      });
      options.onProgress?.(i + 1, sorted.length);
    }
    await fsyncPath(tmp);

    createdParent = await mkdir(path.dirname(dest), { recursive: true });
    // Parents may have appeared since the check: check again right before the rename.
    const recheck = await resolveInWorkspace(root, relDestination, { mustExist: false });
    if (recheck !== dest) {
      throw new AppError(
        'conflict',
        'WORKSPACE.CHANGED',
        `${relDestination} changed while it was being written`,
      );
    }
    if (existing) {
      aside = path.join(path.dirname(tmp), `old-${randomBytes(8).toString('hex')}`);
      await rename(dest, aside);
      try {
        await rename(tmp, dest);
      } catch (e) {
        await rename(aside, dest);
        aside = undefined;
        throw e;
      }
    } else {
      await rename(tmp, dest);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (createdParent !== undefined) await removeCreatedParents(path.dirname(dest), createdParent);
    await removeTmpBaseIfEmpty(rootReal);
    throw e;
  }
  // The project is in place: what follows is durability and tidying, and cannot undo it.
  await fsyncPath(path.dirname(dest)).catch(() => undefined);
  if (aside !== undefined) await rm(aside, { recursive: true, force: true }).catch(() => undefined);
  await removeTmpBaseIfEmpty(rootReal);
  return { path: dest, files: written };
}
