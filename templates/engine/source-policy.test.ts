import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDirs } from '../../test/templates.ts';
import { BUILTIN_TEMPLATES_DIR, checkSourceLocation, defaultSourcePolicy } from './source-policy.ts';

const temp = await makeTempDirs();
afterEach(temp.cleanup);

const notAllowed = { kind: 'validation', code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED' };

describe('checkSourceLocation', () => {
  it('allows a directory under a root, and the built-in templates by default', async () => {
    const root = await temp.make();
    await mkdir(path.join(root, 'team', 'templates'), { recursive: true });
    const policy = defaultSourcePolicy(root);
    await expect(
      checkSourceLocation({ kind: 'directory', location: path.join(root, 'team', 'templates') }, policy),
    ).resolves.toBeUndefined();
    await expect(checkSourceLocation({ kind: 'directory', location: root }, policy)).resolves.toBeUndefined();
    await expect(
      checkSourceLocation({ kind: 'directory', location: BUILTIN_TEMPLATES_DIR }, policy),
    ).resolves.toBeUndefined();
  });

  it('refuses a directory outside every root, however it is spelt', async () => {
    const root = await temp.make();
    const outside = await temp.make();
    const policy = defaultSourcePolicy(root);
    for (const location of [
      outside,
      '/',
      path.join(root, '..'),
      `${root}/../${path.basename(outside)}`,
      `${root}-x`,
    ]) {
      await expect(
        checkSourceLocation({ kind: 'directory', location }, policy),
        location,
      ).rejects.toMatchObject(notAllowed);
    }
  });

  it('follows symlinks: a link under the root to a directory outside is outside', async () => {
    const root = await temp.make();
    const outside = await temp.make();
    await symlink(outside, path.join(root, 'sneaky'));
    await expect(
      checkSourceLocation(
        { kind: 'directory', location: path.join(root, 'sneaky') },
        defaultSourcePolicy(root),
      ),
    ).rejects.toMatchObject(notAllowed);
    await expect(
      checkSourceLocation(
        { kind: 'directory', location: path.join(root, 'sneaky', 'not-yet') },
        defaultSourcePolicy(root),
      ),
    ).rejects.toMatchObject(notAllowed);
  });

  it('lets the built-in source be wherever the configuration put it', async () => {
    const elsewhere = await temp.make();
    await expect(
      checkSourceLocation({ kind: 'directory', location: elsewhere, builtIn: true }, defaultSourcePolicy()),
    ).resolves.toBeUndefined();
  });

  it('allows git over https and ssh, a local repository only when the policy says so', async () => {
    const policy = defaultSourcePolicy();
    await expect(
      checkSourceLocation({ kind: 'git', location: 'https://example.com/t.git' }, policy),
    ).resolves.toBeUndefined();
    await expect(
      checkSourceLocation({ kind: 'git', location: 'git@example.com:t.git' }, policy),
    ).resolves.toBeUndefined();
    for (const location of ['ext::sh -c id', 'file:///srv/t.git', '/srv/t.git', 'http://example.com/t.git']) {
      await expect(checkSourceLocation({ kind: 'git', location }, policy), location).rejects.toMatchObject(
        notAllowed,
      );
    }
    await expect(
      checkSourceLocation({ kind: 'git', location: '/srv/t.git' }, { ...policy, allowLocalGit: true }),
    ).resolves.toBeUndefined();
  });
});
