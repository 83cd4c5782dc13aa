import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../kernel/errors.ts';
import { packageFile } from '../../kernel/package-files.ts';
import { checkGitUrl } from './git.ts';

/**
 * Where template sources may be. A source is registered over the API, so its location is user
 * input: without limits a directory source reads any directory this process can (the data
 * directory, with the secret key, included) and a git source any repository on the machine, or
 * runs a command through a remote helper (`ext::`).
 */
export interface SourcePolicy {
  /** A directory source must lie under one of these (symlinks followed). */
  directoryRoots: readonly string[];
  /** A git source may be a path or `file://` URL on this machine (tests, single-user setups). */
  allowLocalGit?: boolean;
}

/** The templates shipped with Switchyard. */
export const BUILTIN_TEMPLATES_DIR = packageFile('templates/builtin');

/** The built-in templates' directory and the workspace root (when there is one); no local git. */
export function defaultSourcePolicy(workspaceRoot?: string): SourcePolicy {
  return {
    directoryRoots:
      workspaceRoot === undefined ? [BUILTIN_TEMPLATES_DIR] : [workspaceRoot, BUILTIN_TEMPLATES_DIR],
    allowLocalGit: false,
  };
}

/** The path with symlinks resolved as far as it exists (a missing tail is kept as written). */
async function resolved(p: string): Promise<string> {
  const abs = path.resolve(p);
  const real = await realpath(abs).catch(() => undefined);
  if (real !== undefined) return real;
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(await resolved(parent), path.basename(abs));
}

function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * Throws `AppError('validation', 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED')` when `policy` does not
 * allow the source: a directory outside every root, a git URL that is neither https nor ssh (or a
 * local repository without `allowLocalGit`). A built-in source is registered by Switchyard itself
 * from its configuration, never over the API, and is not checked.
 */
export async function checkSourceLocation(
  source: { kind: 'directory' | 'git'; location: string; builtIn?: boolean },
  policy: SourcePolicy,
): Promise<void> {
  if (source.builtIn) return;
  if (source.kind === 'git') {
    checkGitUrl(source.location, { allowFile: policy.allowLocalGit ?? false });
    return;
  }
  const location = await resolved(source.location);
  for (const root of policy.directoryRoots) {
    if (isWithin(await resolved(root), location)) return;
  }
  throw new AppError(
    'validation',
    'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
    `directory ${source.location} is not under a directory template sources may be read from`,
    { location: source.location },
  );
}
