import { execFile } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppError } from '../../kernel/errors.ts';

/**
 * Template sources in git, through the system `git` binary: no shell, no prompt (a private repo
 * without credentials fails instead of hanging on a terminal that is not there), a time limit,
 * and only the https and ssh transports (a repository on this machine only when the caller allows
 * it): `ext::` and `fd::` run commands, other remote helpers are programs of their own, and `file`
 * reads whatever repository this process can. Nothing of Switchyard's environment (database URL,
 * keys) is handed to git or the ssh it starts.
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

/** What git and ssh need of this process's environment: finding programs, keys, proxies, CAs. */
const PASSED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'SSH_AUTH_SOCK',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_NOSYSTEM',
  'XDG_CONFIG_HOME',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];

/** The transports a template source may use; `file` only when allowed. */
type Transport = 'https' | 'ssh' | 'file';

function gitEnv(transports: readonly Transport[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    ...env,
    // Overrides any protocol.allow configuration, for redirects and submodules too.
    GIT_ALLOW_PROTOCOL: transports.join(':'),
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    LC_ALL: 'C',
  };
}

function git(
  args: string[],
  timeoutMs: number,
  options: { cwd?: string; allowFile?: boolean } = {},
): Promise<GitResult> {
  const transports: Transport[] = options.allowFile ? ['https', 'ssh', 'file'] : ['https', 'ssh'];
  const allow = transports.flatMap((t) => ['-c', `protocol.${t}.allow=always`]);
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'protocol.allow=never', ...allow, '-c', 'core.askPass=', ...args],
      {
        cwd: options.cwd,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: gitEnv(transports),
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

function notAllowed(url: string, why: string): AppError {
  return new AppError(
    'validation',
    'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
    `git url ${displayUrl(url)}: ${why}`,
    { url: displayUrl(url) },
  );
}

/**
 * The transport `url` would use, or an AppError('validation', 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED'
 * | 'TEMPLATE_SOURCE.INVALID_ARGUMENT') saying why it may not be used: https and ssh
 * (`ssh://`, `git+ssh://`, scp-like `git@host:path`) are; a path or `file://` URL only with
 * `allowFile`; remote helpers (`ext::cmd`, `fd::0`, `foo::url`), other schemes (`http`, `git`) and
 * anything that git or ssh could read as an option (`-u...`, `ssh://-oProxyCommand=...`) never.
 */
export function checkGitUrl(url: string, options: { allowFile?: boolean } = {}): Transport {
  refuseOptionLike('git url', url);
  if (/^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(url)) {
    throw notAllowed(url, 'remote helpers (such as ext:: and fd::) are not allowed; use an https or ssh URL');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  let transport: Transport;
  let host: string | undefined;
  if (scheme !== undefined) {
    if (scheme === 'https') transport = 'https';
    else if (scheme === 'ssh' || scheme === 'git+ssh' || scheme === 'ssh+git') transport = 'ssh';
    else if (scheme === 'file') transport = 'file';
    else throw notAllowed(url, `the ${scheme} transport is not allowed; use https or ssh`);
    host = url
      .slice(scheme.length + 3)
      .split('/')[0]
      ?.replace(/^[^@]*@/, '');
  } else if (localPath(url) === undefined) {
    transport = 'ssh';
    host = url.slice(0, url.indexOf(':')).replace(/^[^@]*@/, '');
  } else {
    transport = 'file';
  }
  if (host?.startsWith('-')) throw notAllowed(url, 'a host may not start with "-"');
  if (transport === 'file' && !options.allowFile) {
    throw notAllowed(
      url,
      'repositories on this machine (a path or file://) are not allowed; use https or ssh',
    );
  }
  return transport;
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
 * `url` is an https or ssh URL, or with `allowFile` a local path (relative or absolute) or file://
 * URL (see {@link checkGitUrl}). Throws `TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED` (validation),
 * `TEMPLATE_SOURCE.UNREACHABLE` (unavailable), `TEMPLATE_SOURCE.REF_NOT_FOUND` (not_found),
 * `TEMPLATE_SOURCE.TIMEOUT` (timeout).
 */
export async function gitResolve(
  url: string,
  ref?: string,
  options: { allowFile?: boolean } = {},
): Promise<string> {
  checkGitUrl(url, options);
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
    ({ stdout } = await git(['ls-remote', '--', remote, ...wanted], LS_REMOTE_TIMEOUT_MS, options));
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
  options: { timeoutMs?: number; allowFile?: boolean } = {},
): Promise<{ commit: string }> {
  checkGitUrl(url, options);
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
    await git([...args, '--', remote, target], timeoutMs, options);
    const { stdout } = await git(['rev-parse', 'HEAD'], LS_REMOTE_TIMEOUT_MS, { cwd: target });
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
