import { execFile } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError } from '../../kernel/errors.ts';

/**
 * Template sources in git, through the system `git` binary: no shell, no prompt (a private repo
 * without credentials fails instead of hanging on a terminal that is not there), a time limit,
 * and the `ext::` transport (which runs commands) switched off.
 */

const LS_REMOTE_TIMEOUT_MS = 30_000;
const CLONE_TIMEOUT_MS = 120_000;

interface GitResult {
  stdout: string;
  stderr: string;
}

class GitFailure extends Error {
  constructor(
    readonly stderr: string,
    readonly timedOut: boolean,
    message: string,
  ) {
    super(message);
  }
}

function git(args: string[], timeoutMs: number, cwd?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'protocol.ext.allow=never', '-c', 'core.askPass=', ...args],
      {
        cwd,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', LC_ALL: 'C' },
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr });
          return;
        }
        const timedOut = (err as { killed?: boolean }).killed === true;
        reject(new GitFailure(stderr, timedOut, err.message));
      },
    );
  });
}

/**
 * Hides credentials in any URL in `text`: `https://user:token@host` → `https://user:***@host`, and
 * `https://token@host` → `https://***@host` (over http a lone user name is usually a token).
 * URLs end up in messages, logs and events; ssh user names (`ssh://git@host`) stay.
 */
export function displayUrl(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*)(:[^/@\s]*)?@/gi,
    (_all, scheme: string, user: string, password: string | undefined) => {
      if (password !== undefined) return `${scheme}${user}:***@`;
      return /^https?:\/\/$/i.test(scheme) ? `${scheme}***@` : `${scheme}${user}@`;
    },
  );
}

/**
 * A path on this machine (neither `scheme://...` nor scp-like `host:path`) becomes an absolute
 * path, so relative source paths work whatever the working directory of the git process.
 */
function localPath(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) return undefined;
  return path.resolve(url);
}

function refuseOptionLike(what: string, value: string | undefined): void {
  if (value?.startsWith('-')) {
    throw new AppError(
      'validation',
      'TEMPLATE_SOURCE.INVALID_ARGUMENT',
      `${what} may not start with "-": ${value}`,
    );
  }
  if (value !== undefined && (value === '' || /[\0\n\r]/.test(value))) {
    throw new AppError(
      'validation',
      'TEMPLATE_SOURCE.INVALID_ARGUMENT',
      `${what} is empty or has a control character`,
    );
  }
}

/** The line git itself puts the reason on: the first `fatal:` line, else the first line. */
function reason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.find((l) => l.startsWith('fatal:')) ?? lines[0] ?? 'git failed';
}

function failure(command: string, url: string, e: unknown, timeoutMs: number): AppError {
  const shown = displayUrl(url);
  if (e instanceof GitFailure) {
    if (e.timedOut) {
      return new AppError(
        'timeout',
        'TEMPLATE_SOURCE.TIMEOUT',
        `git ${command} ${shown}: no answer within ${timeoutMs / 1000} s`,
        { url: shown },
      );
    }
    return new AppError(
      'unavailable',
      'TEMPLATE_SOURCE.UNREACHABLE',
      `git ${command} ${shown}: ${displayUrl(reason(e.stderr || e.message))}`,
      { url: shown },
    );
  }
  const message = displayUrl(e instanceof Error ? e.message : String(e));
  return new AppError('unavailable', 'TEMPLATE_SOURCE.UNREACHABLE', `git ${command} ${shown}: ${message}`, {
    url: shown,
  });
}

/**
 * The commit a branch or tag (default: the remote's HEAD) points at, without fetching anything.
 * Tags win over branches of the same name, as in git; an annotated tag gives the commit it tags.
 * `url` may be a local path (relative or absolute) or any git URL.
 * Throws `TEMPLATE_SOURCE.UNREACHABLE` (unavailable), `TEMPLATE_SOURCE.REF_NOT_FOUND` (not_found),
 * `TEMPLATE_SOURCE.TIMEOUT` (timeout).
 */
export async function gitResolve(url: string, ref?: string): Promise<string> {
  refuseOptionLike('git url', url);
  refuseOptionLike('git ref', ref);
  const remote = localPath(url) ?? url;
  const wanted =
    ref === undefined || ref === 'HEAD'
      ? ['HEAD']
      : ref.startsWith('refs/')
        ? [`${ref}^{}`, ref]
        : [`refs/tags/${ref}^{}`, `refs/tags/${ref}`, `refs/heads/${ref}`];
  let stdout: string;
  try {
    // The peeled pattern must be asked for: `refs/tags/v1` alone does not list `refs/tags/v1^{}`.
    ({ stdout } = await git(['ls-remote', remote, ...wanted], LS_REMOTE_TIMEOUT_MS));
  } catch (e) {
    throw failure('ls-remote', url, e, LS_REMOTE_TIMEOUT_MS);
  }
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name.trim(), sha.trim());
  }
  // Patterns match ref-name tails (refs/heads/x also matches refs/heads/a/refs/heads/x): look up exactly.
  for (const name of wanted) {
    const sha = refs.get(name);
    if (sha !== undefined) return sha;
  }
  throw new AppError(
    'not_found',
    'TEMPLATE_SOURCE.REF_NOT_FOUND',
    `git ls-remote ${displayUrl(url)}: no branch or tag ${ref ?? 'HEAD'}`,
    { url: displayUrl(url), ref: ref ?? 'HEAD' },
  );
}

/**
 * A shallow clone of one branch or tag (default: the remote's default branch) into `dest`, which
 * must not exist; returns the commit checked out. On failure nothing is left at `dest`.
 * Same errors as {@link gitResolve}, plus `TEMPLATE_SOURCE.DESTINATION_EXISTS` (conflict).
 */
export async function gitCheckout(
  url: string,
  ref: string | undefined,
  dest: string,
  options: { timeoutMs?: number } = {},
): Promise<{ commit: string }> {
  refuseOptionLike('git url', url);
  refuseOptionLike('git ref', ref);
  const target = path.resolve(dest);
  if (await lstat(target).catch(() => undefined)) {
    throw new AppError(
      'conflict',
      'TEMPLATE_SOURCE.DESTINATION_EXISTS',
      `checkout destination ${target} exists`,
    );
  }
  const local = localPath(url);
  // git ignores --depth for plain local paths; a file:// URL makes it a real (shallow) fetch.
  const remote = local === undefined ? url : pathToFileURL(local).href;
  const timeoutMs = options.timeoutMs ?? CLONE_TIMEOUT_MS;
  const args = ['clone', '--quiet', '--depth', '1', '--single-branch', '--no-tags'];
  if (ref !== undefined && ref !== 'HEAD') args.push('--branch', ref);
  try {
    await git([...args, '--', remote, target], timeoutMs);
    const { stdout } = await git(['rev-parse', 'HEAD'], LS_REMOTE_TIMEOUT_MS, target);
    return { commit: stdout.trim() };
  } catch (e) {
    await rm(target, { recursive: true, force: true });
    if (e instanceof GitFailure && /Remote branch .* not found|couldn't find remote ref/i.test(e.stderr)) {
      throw new AppError(
        'not_found',
        'TEMPLATE_SOURCE.REF_NOT_FOUND',
        `git clone ${displayUrl(url)}: no branch or tag ${ref ?? 'HEAD'}`,
        { url: displayUrl(url), ref: ref ?? 'HEAD' },
      );
    }
    throw failure('clone', url, e, timeoutMs);
  }
}
