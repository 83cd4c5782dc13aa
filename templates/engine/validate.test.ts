import { afterEach, describe, expect, it } from 'vitest';
import { loadTemplateDir } from './load.ts';
import { makeTempDirs, manifestYaml, writeTree } from './testing.ts';
import { validateTemplate, validateTemplateDir } from './validate.ts';

const temp = await makeTempDirs();
afterEach(temp.cleanup);

async function templateDir(files: Record<string, string>, manifest: Record<string, unknown> = {}) {
  const dir = await temp.make();
  await writeTree(dir, { 'template.yaml': manifestYaml(manifest), ...files });
  return dir;
}

describe('validateTemplate', () => {
  it('accepts a template whose variables are declared and used', async () => {
    const dir = await templateDir(
      { '{{ name }}/index.ts': 'export const port = {{ port }};\n{% if docker %}// docker{% endif %}\n' },
      {
        variables: {
          name: { type: 'string', required: true },
          port: { type: 'integer', default: 3000 },
          docker: { type: 'boolean', default: false },
        },
      },
    );
    const result = validateTemplate(await loadTemplateDir(dir));
    expect(result.issues).toEqual([]);
    expect(result).toMatchObject({ ok: true, stats: { files: 1 } });
  });

  it('names the files that use an undeclared variable, and warns of an unused one', async () => {
    const dir = await templateDir(
      { 'src/a.ts': '{{ projectName }}', 'src/b.ts': '{{ projectName | camelCase }}' },
      { variables: { name: { type: 'string', default: 'x' } } },
    );
    const result = validateTemplate(await loadTemplateDir(dir));
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([
      {
        code: 'TEMPLATE.UNDECLARED_VARIABLE',
        severity: 'error',
        message: 'variable projectName is used in src/a.ts, src/b.ts but not declared in template.yaml',
        file: 'src/a.ts',
      },
      {
        code: 'TEMPLATE.UNUSED_VARIABLE',
        severity: 'warning',
        message: 'variable name is declared in template.yaml but never used',
      },
    ]);
  });

  it('checks that defaults fit their variables', async () => {
    const dir = await templateDir(
      { 'a.txt': '{{ port }}' },
      { variables: { port: { type: 'integer', default: '3000', minimum: 1 } } },
    );
    const result = validateTemplate(await loadTemplateDir(dir));
    expect(result.issues.map((i) => [i.code, i.message])).toEqual([
      ['TEMPLATE.INVALID_DEFAULT', 'template.yaml: variables.port.default must be an integer, got "3000"'],
    ]);
  });

  it('finds a render failure on the false side of a boolean', async () => {
    const dir = await templateDir(
      { 'a.txt': '{% if docker %}ok{% else %}{{ missing.thing }}{% endif %}' },
      { variables: { docker: { type: 'boolean' }, missing: { type: 'string' } } },
    );
    const result = validateTemplate(await loadTemplateDir(dir));
    expect(result.ok).toBe(false);
    expect(result.issues[0]?.code).toBe('TEMPLATE.RENDER_FAILED');
    expect(result.issues[0]?.message).toContain('(with docker false)');
  });

  it('reports a path that escapes the output and a syntax error', async () => {
    const escapes = await templateDir({ '{{ "../up" }}.txt': 'x' });
    expect(validateTemplate(await loadTemplateDir(escapes)).issues.map((i) => i.code)).toEqual([
      'TEMPLATE.PATH_ESCAPES',
    ]);
    const syntax = await templateDir({ 'a.txt': '{% for %}' });
    expect(validateTemplate(await loadTemplateDir(syntax)).issues.map((i) => i.code)).toEqual([
      'TEMPLATE.SYNTAX_ERROR',
    ]);
  });

  it('checks size limits', async () => {
    const dir = await templateDir({ 'a.txt': 'x'.repeat(20) });
    const result = validateTemplate(await loadTemplateDir(dir), {
      maxFiles: 10,
      maxFileBytes: 10,
      maxTotalBytes: 100,
    });
    expect(result.issues.map((i) => i.code)).toEqual(['TEMPLATE.FILE_TOO_LARGE']);
  });
});

describe('validateTemplateDir', () => {
  it('turns a load failure into issues', async () => {
    const dir = await temp.make();
    await writeTree(dir, { 'template.yaml': manifestYaml({ version: 'one' }) });
    const result = await validateTemplateDir(dir);
    expect(result.ok).toBe(false);
    expect(result.issues[0]?.message).toContain('template.yaml: version: must be a semantic version');
  });
});
