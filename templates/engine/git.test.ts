import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDirs } from '../../test/templates.ts';
import { checkGitUrl, displayUrl, gitCheckout, gitResolve } from './git.ts';

const run = promisify(execFile);
const temp = await makeTempDirs();
let repo: string;
/** The repositories here are on this machine: allowed only when asked for. */
const local = { allowFile: true };

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd } },
  );
  return stdout.trim();
}

// One repository for the file: main has two commits, annotated tag v1 marks the first.
beforeAll(async () => {
  const setup = await makeTempDirs();
  repo = await setup.make();
  await git(repo, 'init', '--quiet', '--initial-branch=main');
  await writeFile(path.join(repo, 'version.txt'), 'one\n');
  await git(repo, 'add', '.');
  await git(repo, 'commit', '--quiet', '-m', 'one');
  await git(repo, 'tag', '-a', 'v1', '-m', 'version one');
  await writeFile(path.join(repo, 'version.txt'), 'two\n');
  await git(repo, 'commit', '--quiet', '-am', 'two');
  return setup.cleanup;
});
afterEach(temp.cleanup);

describe('gitResolve', () => {
  it('gives the commit a branch or (annotated) tag points at', async () => {
    const main = await gitResolve(repo, 'main', local);
    const v1 = await gitResolve(repo, 'v1', local);
    expect(main).toBe(await git(repo, 'rev-parse', 'main'));
    expect(v1).toBe(await git(repo, 'rev-parse', 'v1^{commit}'));
    expect(v1).not.toBe(main);
    expect(await gitResolve(repo, undefined, local)).toBe(main);
  });

  it('accepts a relative local path', async () => {
    const relative = path.relative(process.cwd(), repo);
    expect(await gitResolve(relative, 'main', local)).toBe(await git(repo, 'rev-parse', 'main'));
  });

  it('says REF_NOT_FOUND for an unknown ref and UNREACHABLE for a missing repository', async () => {
    await expect(gitResolve(repo, 'v9', local)).rejects.toMatchObject({
      kind: 'not_found',
      code: 'TEMPLATE_SOURCE.REF_NOT_FOUND',
    });
    const missing = path.join(await temp.make(), 'nope');
    await expect(gitResolve(missing, undefined, local)).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'TEMPLATE_SOURCE.UNREACHABLE',
      message: expect.stringMatching(/^git ls-remote .*nope: fatal: /),
    });
  });

  it('refuses arguments that look like options', async () => {
    await expect(gitResolve('--upload-pack=touch /tmp/x', 'main')).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(gitResolve(repo, '--all', local)).rejects.toMatchObject({ kind: 'validation' });
  });

  it('refuses a repository on this machine unless allowed, and runs no remote helper', async () => {
    const dir = await temp.make();
    const marker = path.join(dir, 'pwned');
    await expect(gitResolve(repo, 'main')).rejects.toMatchObject({
      code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
    });
    await expect(gitResolve(`file://${repo}`, 'main')).rejects.toMatchObject({
      code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
    });
    for (const url of [`ext::sh -c touch% ${marker}`, 'fd::0', `ext::touch ${marker}`]) {
      await expect(gitResolve(url, 'main', local)).rejects.toMatchObject({
        code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
      });
      await expect(gitCheckout(url, 'main', path.join(dir, 'co'), local)).rejects.toMatchObject({
        code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED',
      });
    }
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('checkGitUrl', () => {
  it.each([
    ['https://example.com/t.git', 'https'],
    ['https://bot:token@example.com/t.git', 'https'],
    ['ssh://git@example.com/t.git', 'ssh'],
    ['git+ssh://git@example.com/t.git', 'ssh'],
    ['git@example.com:team/t.git', 'ssh'],
  ])('allows %s (%s)', (url, transport) => {
    expect(checkGitUrl(url)).toBe(transport);
  });

  it.each([
    ['ext::sh -c id', 'remote helpers'],
    ['fd::3', 'remote helpers'],
    ['foo::https://example.com/t.git', 'remote helpers'],
    ['http://example.com/t.git', 'the http transport'],
    ['git://example.com/t.git', 'the git transport'],
    ['ftp://example.com/t.git', 'the ftp transport'],
    ['file:///srv/t.git', 'on this machine'],
    ['/srv/t.git', 'on this machine'],
    ['../t.git', 'on this machine'],
    ['ssh://-oProxyCommand=touch%20x/t.git', 'may not start with "-"'],
    ['-oProxyCommand=x:t.git', 'may not start with "-"'],
    ['--upload-pack=touch x', 'may not start with "-"'],
  ])('refuses %s', (url, why) => {
    expect(() => checkGitUrl(url)).toThrow(
      expect.objectContaining({ kind: 'validation', message: expect.stringContaining(why) }),
    );
  });

  it('allows a local path or file:// when asked', () => {
    expect(checkGitUrl('file:///srv/t.git', { allowFile: true })).toBe('file');
    expect(checkGitUrl('/srv/t.git', { allowFile: true })).toBe('file');
    expect(() => checkGitUrl('ext::sh', { allowFile: true })).toThrow(/remote helpers/);
  });
});

describe('gitCheckout', () => {
  it("checks out a tag's files and says which commit", async () => {
    const dest = path.join(await temp.make(), 'checkout');
    const { commit } = await gitCheckout(repo, 'v1', dest, local);
    expect(commit).toBe(await gitResolve(repo, 'v1', local));
    expect(await readFile(path.join(dest, 'version.txt'), 'utf8')).toBe('one\n');
    expect(await git(dest, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('checks out the default branch without a ref', async () => {
    const dest = path.join(await temp.make(), 'checkout');
    expect((await gitCheckout(repo, undefined, dest, local)).commit).toBe(
      await gitResolve(repo, 'main', local),
    );
    expect(await readFile(path.join(dest, 'version.txt'), 'utf8')).toBe('two\n');
  });

  it('says REF_NOT_FOUND for an unknown ref and leaves nothing behind', async () => {
    const dest = path.join(await temp.make(), 'checkout');
    await expect(gitCheckout(repo, 'nope', dest, local)).rejects.toMatchObject({
      code: 'TEMPLATE_SOURCE.REF_NOT_FOUND',
    });
    await expect(readFile(path.join(dest, 'version.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an existing destination', async () => {
    const dest = await temp.make();
    await expect(gitCheckout(repo, 'main', dest, local)).rejects.toMatchObject({ kind: 'conflict' });
  });
});

describe('displayUrl', () => {
  it('hides a password in a URL', () => {
    expect(displayUrl('https://bot:s3cret@example.com/t.git')).toBe('https://bot:***@example.com/t.git');
    expect(displayUrl('https://ghp_token@example.com/t.git')).toBe('https://***@example.com/t.git');
    expect(displayUrl("fatal: unable to access 'https://u:p@h/x/'")).toBe(
      "fatal: unable to access 'https://u:***@h/x/'",
    );
    expect(displayUrl('ssh://git@example.com/t.git')).toBe('ssh://git@example.com/t.git');
    expect(displayUrl('git@example.com:t.git')).toBe('git@example.com:t.git');
  });
});
