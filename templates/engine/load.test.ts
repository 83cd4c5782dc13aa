import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { makeTempDirs, manifestYaml, PNG_BYTES, writeTree } from '../../test/templates.ts';
import type { TemplateLimits } from './limits.ts';
import { loadTemplateDir, type ScanProgress, scanSource } from './load.ts';

const temp = await makeTempDirs();
afterEach(temp.cleanup);

async function loadError(dir: string): Promise<AppError> {
  const e = await loadTemplateDir(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('loadTemplateDir', () => {
  it('reads the manifest and files, sorted, telling binary and copied files from rendered ones', async () => {
    const dir = await temp.make();
    await writeTree(dir, {
      'template.yaml': manifestYaml({ files: { copy: ['raw/**'], exclude: ['build'] } }),
      'src/index.ts.njk': 'export const name = "{{ name }}";\n',
      'README.md': '# {{ name }}\n',
      'assets/logo.png': PNG_BYTES,
      'raw/keep.njk': '{{ not rendered }}',
      'build/out.js': 'excluded',
      'node_modules/x/index.js': 'skipped',
    });
    const t = await loadTemplateDir(dir);
    expect(t.manifest.name).toBe('demo');
    expect(t.manifestFile).toBe('template.yaml');
    expect(t.files.map((f) => [f.path, f.binary, f.render])).toEqual([
      ['README.md', false, true],
      ['assets/logo.png', true, false],
      ['raw/keep.njk', false, false],
      ['src/index.ts.njk', false, true],
    ]);
    expect(t.files[1]?.content.equals(PNG_BYTES)).toBe(true);
  });

  it('names the manifest field that is wrong', async () => {
    const dir = await temp.make();
    await writeTree(dir, {
      'template.yaml': manifestYaml({ variables: { port: { type: 'int' } } }),
    });
    const e = await loadError(dir);
    expect(e.kind).toBe('validation');
    expect(e.code).toBe('TEMPLATE.INVALID_MANIFEST');
    expect(e.message).toContain(dir);
    expect(e.message).toContain('template.yaml: variables.port.type: must be one of');
  });

  it('reports a YAML syntax error and a missing manifest', async () => {
    const bad = await temp.make();
    await writeTree(bad, { 'template.yaml': 'name: [unclosed\n' });
    expect((await loadError(bad)).message).toMatch(/template\.yaml: /);

    const none = await temp.make();
    await writeTree(none, { 'index.ts': '' });
    const e = await loadError(none);
    expect(e.code).toBe('TEMPLATE.NO_MANIFEST');
    expect(e.message).toContain('template.yaml, template.yml, template.json');
  });

  it('reads a JSON manifest', async () => {
    const dir = await temp.make();
    await writeTree(dir, {
      'template.json': JSON.stringify({ name: 'j', version: '0.1.0', stack: 's', description: 'd' }),
    });
    expect((await loadTemplateDir(dir)).manifest.name).toBe('j');
  });

  it('refuses a template containing a symlink', async () => {
    const dir = await temp.make();
    await writeTree(dir, { 'template.yaml': manifestYaml(), 'a.txt': 'a' });
    await symlink('/etc/passwd', path.join(dir, 'passwd'));
    const e = await loadError(dir);
    expect(e.code).toBe('TEMPLATE.SYMLINK');
    expect(e.message).toContain('passwd: is a symbolic link');
  });

  it('enforces file count and size limits', async () => {
    const dir = await temp.make();
    await writeTree(dir, {
      'template.yaml': manifestYaml(),
      'a.txt': 'a'.repeat(400),
      'b.txt': 'b'.repeat(200),
      'c.txt': 'c',
    });
    const loadWith = (limits: TemplateLimits) =>
      loadTemplateDir(dir, limits).then(
        () => 'loaded',
        (e: AppError) => e.message,
      );
    expect(await loadWith({ maxFiles: 2, maxFileBytes: 1000, maxTotalBytes: 10_000 })).toContain(
      'more than 2 files',
    );
    expect(await loadWith({ maxFiles: 10, maxFileBytes: 300, maxTotalBytes: 10_000 })).toContain(
      'a.txt: 400 bytes is over the 300-byte limit per file',
    );
    expect(await loadWith({ maxFiles: 10, maxFileBytes: 1000, maxTotalBytes: 500 })).toContain(
      '601 bytes in all is over the 500-byte limit',
    );
    expect(await loadWith({ maxFiles: 10, maxFileBytes: 20, maxTotalBytes: 10_000 })).toContain(
      'template.yaml: ',
    );
    expect(await loadWith({ maxFiles: 3, maxFileBytes: 400, maxTotalBytes: 601 })).toBe('loaded');
  });

  it('hashes content, not location: two copies agree, one changed byte does not', async () => {
    const a = await temp.make();
    await writeTree(a, {
      'template.yaml': manifestYaml(),
      'src/z.ts': 'export {};\n',
      'src/a.ts': 'export const a = 1;\n',
      'logo.png': PNG_BYTES,
    });
    const b = path.join(await temp.make(), 'copy');
    await cp(a, b, { recursive: true });
    const ha = (await loadTemplateDir(a)).contentHash;
    expect((await loadTemplateDir(b)).contentHash).toBe(ha);
    await writeFile(path.join(b, 'src/a.ts'), 'export const a = 2;\n');
    expect((await loadTemplateDir(b)).contentHash).not.toBe(ha);
  });
});

describe('scanSource', () => {
  it('finds templates at any depth, reports broken ones, and reports progress with the total first', async () => {
    const root = await temp.make();
    await writeTree(root, {
      'one/template.yaml': manifestYaml({ name: 'one' }),
      'one/nested/template.yaml': manifestYaml({ name: 'inside-one' }),
      'group/sub/two/template.yaml': manifestYaml({ name: 'two' }),
      'group/sub/two/file.txt': 'x',
      'broken/template.yaml': manifestYaml({ name: 'Not Valid' }),
      'not-a-template/readme.md': 'nothing here',
    });
    const progress: ScanProgress[] = [];
    const { templates, problems } = await scanSource(root, { onProgress: (p) => progress.push(p) });
    expect(templates.map((t) => t.manifest.name)).toEqual(['two', 'one']);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.dir).toBe('broken');
    expect(problems[0]?.name).toBe('Not Valid');
    expect(problems[0]?.issues[0]?.message).toContain('name:');
    expect(progress[0]).toEqual({ done: 0, total: 3 });
    expect(progress.at(-1)).toMatchObject({ done: 3, total: 3 });
  });

  it('reports a second template with a name already taken', async () => {
    const root = await temp.make();
    await writeTree(root, {
      'a/template.yaml': manifestYaml({ name: 'same' }),
      'b/template.yaml': manifestYaml({ name: 'same' }),
    });
    const { templates, problems } = await scanSource(root);
    expect(templates.map((t) => t.dir)).toEqual([path.join(root, 'a')]);
    expect(problems).toEqual([
      {
        dir: 'b',
        name: 'same',
        issues: [expect.objectContaining({ code: 'TEMPLATE.DUPLICATE_NAME' })],
      },
    ]);
  });

  it('does not look deeper than maxDepth', async () => {
    const root = await temp.make();
    await writeTree(root, { 'a/b/c/template.yaml': manifestYaml() });
    expect((await scanSource(root, { maxDepth: 2 })).templates).toHaveLength(0);
    expect((await scanSource(root, { maxDepth: 3 })).templates).toHaveLength(1);
  });

  it('throws UNREACHABLE for a root that is missing or not a directory', async () => {
    const root = await temp.make();
    await mkdir(path.join(root, 'x'));
    await writeFile(path.join(root, 'file'), '');
    for (const missing of [path.join(root, 'nope'), path.join(root, 'file')]) {
      await expect(scanSource(missing)).rejects.toMatchObject({
        kind: 'unavailable',
        code: 'TEMPLATE_SOURCE.UNREACHABLE',
      });
    }
  });
});
