import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../domains/templates/manifest.ts';
import { makeTempDirs, PNG_BYTES, writeTree } from '../../test/templates.ts';
import type { RenderedFile } from './render.ts';
import { renderTemplate } from './render.ts';
import { holdsAnyOf, resolveInWorkspace, TMP_DIR, writeProjectAtomically } from './workspace.ts';

const temp = await makeTempDirs();
afterEach(temp.cleanup);

const project: RenderedFile[] = [
  { path: 'src/index.ts', content: Buffer.from('export {};\n') },
  { path: 'bin/run.sh', content: Buffer.from('#!/bin/sh\n'), executable: true },
  { path: 'logo.png', content: PNG_BYTES },
];

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

describe('resolveInWorkspace', () => {
  it('refuses absolute paths, "..", NUL, and the root itself for writing', async () => {
    const root = await temp.make();
    await expect(resolveInWorkspace(root, '/x', { mustExist: false })).rejects.toMatchObject({
      code: 'WORKSPACE.ABSOLUTE_PATH',
      message: 'destination must be relative to the workspace root, got /x',
    });
    await expect(resolveInWorkspace(root, 'a/../../b', { mustExist: false })).rejects.toMatchObject({
      code: 'WORKSPACE.PATH_ESCAPES',
    });
    await expect(resolveInWorkspace(root, 'a\0b', { mustExist: false })).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(resolveInWorkspace(root, '.', { mustExist: false })).rejects.toMatchObject({
      kind: 'validation',
    });
    expect(await resolveInWorkspace(root, '.', { mustExist: true })).toBe(root);
  });

  it('follows symlinks only while they stay inside the workspace', async () => {
    const root = await temp.make();
    const outside = await temp.make();
    await mkdir(path.join(root, 'real'));
    await symlink(outside, path.join(root, 'out'));
    await symlink(path.join(root, 'real'), path.join(root, 'in'));
    await expect(resolveInWorkspace(root, 'out/project', { mustExist: false })).rejects.toMatchObject({
      code: 'WORKSPACE.SYMLINK_ESCAPES',
    });
    expect(await resolveInWorkspace(root, 'in/project', { mustExist: false })).toBe(
      path.join(root, 'real', 'project'),
    );
  });

  it('refuses, for writing, a destination that is itself a symlink, wherever it leads', async () => {
    const root = await temp.make();
    const outside = await temp.make();
    await mkdir(path.join(root, 'real'));
    await symlink(path.join(root, 'real'), path.join(root, 'in'));
    await symlink(outside, path.join(root, 'out'));
    for (const destination of ['in', 'out', 'in/']) {
      await expect(resolveInWorkspace(root, destination, { mustExist: false })).rejects.toMatchObject({
        kind: 'validation',
        code: 'WORKSPACE.DESTINATION_IS_SYMLINK',
      });
    }
    // Reading through one that stays inside is fine.
    expect(await resolveInWorkspace(root, 'in', { mustExist: true })).toBe(path.join(root, 'real'));
  });

  it('says NOT_FOUND when the path must exist and does not', async () => {
    const root = await temp.make();
    await expect(resolveInWorkspace(root, 'missing', { mustExist: true })).rejects.toMatchObject({
      kind: 'not_found',
      code: 'WORKSPACE.NOT_FOUND',
    });
  });
});

describe('writeProjectAtomically', () => {
  it('writes every file, creating parents, keeping bytes and the execute bit', async () => {
    const root = await temp.make();
    const result = await writeProjectAtomically(root, 'projects/demo', project, { overwrite: false });
    const dest = path.join(root, 'projects', 'demo');
    expect(result.path).toBe(dest);
    expect(result.files.map((f) => f.path)).toEqual(['bin/run.sh', 'logo.png', 'src/index.ts']);
    expect((await readFile(path.join(dest, 'logo.png'))).equals(PNG_BYTES)).toBe(true);
    expect((await stat(path.join(dest, 'bin/run.sh'))).mode & 0o100).toBe(0o100);
    expect((await stat(path.join(dest, 'logo.png'))).mode & 0o111).toBe(0);
    expect(await exists(path.join(root, TMP_DIR))).toBe(false);
  });

  it('refuses a non-empty destination unless told to overwrite, then replaces it whole', async () => {
    const root = await temp.make();
    await writeTree(root, { 'demo/old.txt': 'old' });
    await expect(writeProjectAtomically(root, 'demo', project, { overwrite: false })).rejects.toMatchObject({
      kind: 'conflict',
      code: 'WORKSPACE.DESTINATION_NOT_EMPTY',
    });
    expect(await readdir(path.join(root, 'demo'))).toEqual(['old.txt']);

    await writeProjectAtomically(root, 'demo', project, { overwrite: true });
    expect((await readdir(path.join(root, 'demo'))).sort()).toEqual(['bin', 'logo.png', 'src']);
    expect(await readdir(root)).toEqual(['demo']);
  });

  it('asks mayReplace before replacing a non-empty destination, and keeps it whole when refused', async () => {
    const root = await temp.make();
    await writeTree(root, { 'demo/old.txt': 'old', 'empty/.keep': '' });
    await rm(path.join(root, 'empty/.keep'));
    const asked: string[] = [];
    const refuse = async (dest: string) => {
      asked.push(dest);
      throw new Error('not yours');
    };
    await expect(
      writeProjectAtomically(root, 'demo', project, { overwrite: true, mayReplace: refuse }),
    ).rejects.toThrow('not yours');
    expect(asked).toEqual([path.join(root, 'demo')]);
    expect(await readdir(path.join(root, 'demo'))).toEqual(['old.txt']);
    expect((await readdir(root)).sort()).toEqual(['demo', 'empty']);

    // Nothing to lose: an absent or empty destination is written without asking.
    await writeProjectAtomically(root, 'empty', project, { overwrite: true, mayReplace: refuse });
    await writeProjectAtomically(root, 'fresh', project, { overwrite: true, mayReplace: refuse });
    expect(asked).toHaveLength(1);
    expect((await readdir(path.join(root, 'empty'))).sort()).toEqual(['bin', 'logo.png', 'src']);
  });

  it('refuses a destination that is a file', async () => {
    const root = await temp.make();
    await writeTree(root, { demo: 'a file' });
    await expect(writeProjectAtomically(root, 'demo', project, { overwrite: true })).rejects.toMatchObject({
      code: 'WORKSPACE.NOT_A_DIRECTORY',
    });
  });

  it.each([
    ['../escape', 'WORKSPACE.PATH_ESCAPES'],
    ['/tmp/abs', 'WORKSPACE.ABSOLUTE_PATH'],
    ['link/demo', 'WORKSPACE.SYMLINK_ESCAPES'],
  ])('refuses the destination %s and writes nothing', async (destination, code) => {
    const root = await temp.make();
    const outside = await temp.make();
    await symlink(outside, path.join(root, 'link'));
    await expect(
      writeProjectAtomically(root, destination, project, { overwrite: false }),
    ).rejects.toMatchObject({
      code,
    });
    expect(await readdir(root)).toEqual(['link']);
    expect(await readdir(outside)).toEqual([]);
  });

  it('leaves neither a temp dir nor a destination when a render fails mid-way', async () => {
    const root = await temp.make();
    const write = async () => {
      const manifest = manifestSchema.parse({ name: 'x', version: '1.0.0', stack: 's', description: 'd' });
      const text = (p: string, c: string) => ({
        path: p,
        content: Buffer.from(c),
        binary: false,
        render: true,
      });
      const files = await renderTemplate(
        { manifest, files: [text('a.txt', 'ok'), text('b.txt', '{{ missing }}')] },
        {},
      );
      return writeProjectAtomically(root, 'demo', files, { overwrite: false });
    };
    await expect(write()).rejects.toMatchObject({ code: 'TEMPLATE.RENDER_FAILED' });
    expect(await readdir(root)).toEqual([]);
  });

  it('cleans up and keeps the old project when writing fails mid-way', async () => {
    const root = await temp.make();
    await writeTree(root, { 'demo/old.txt': 'old' });
    const failing = (done: number) => {
      if (done === 2) throw new Error('disk full');
    };
    await expect(
      writeProjectAtomically(root, 'demo', project, { overwrite: true, onProgress: failing }),
    ).rejects.toThrow('disk full');
    expect(await readdir(path.join(root, 'demo'))).toEqual(['old.txt']);
    expect(await readdir(root)).toEqual(['demo']);

    await expect(
      writeProjectAtomically(root, 'new/deep/demo', project, { overwrite: false, onProgress: failing }),
    ).rejects.toThrow('disk full');
    expect(await readdir(root)).toEqual(['demo']);
  });
});

describe('holdsAnyOf', () => {
  const written = (p: string, content: string | Buffer) => {
    const b = Buffer.from(content);
    return { path: p, size: b.length, sha256: createHash('sha256').update(b).digest('hex') };
  };
  const files = [written('README.md', '# demo\n'), written('src/index.ts', 'export {};\n')];

  it('is true while one file is as written, false once none is', async () => {
    const dir = await temp.make();
    await writeTree(dir, { 'README.md': '# edited\n', 'src/index.ts': 'export {};\n', 'extra.txt': 'x' });
    expect(await holdsAnyOf(dir, files)).toBe(true);
    await writeTree(dir, { 'src/index.ts': 'export const x = 1;\n' });
    expect(await holdsAnyOf(dir, files)).toBe(false);
    expect(await holdsAnyOf(dir, [])).toBe(false);
  });

  it('follows no symlink to find a file as written', async () => {
    const dir = await temp.make();
    const elsewhere = await temp.make();
    await writeTree(elsewhere, { 'README.md': '# demo\n', 'src/index.ts': 'export {};\n' });
    await symlink(path.join(elsewhere, 'README.md'), path.join(dir, 'README.md'));
    await symlink(path.join(elsewhere, 'src'), path.join(dir, 'src'));
    expect(await holdsAnyOf(dir, files)).toBe(false);
  });
});
