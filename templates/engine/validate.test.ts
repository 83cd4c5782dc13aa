import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDirs, manifestYaml, writeTree } from '../../test/templates.ts';
import { loadTemplateDir } from './load.ts';
import { BUILTIN_TEMPLATES_DIR } from './source-policy.ts';
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
    const result = await validateTemplate(await loadTemplateDir(dir));
    expect(result.issues).toEqual([]);
    expect(result).toMatchObject({ ok: true, stats: { files: 1 } });
  });

  it('names the files that use an undeclared variable, and warns of an unused one', async () => {
    const dir = await templateDir(
      { 'src/a.ts': '{{ projectName }}', 'src/b.ts': '{{ projectName | camelCase }}' },
      { variables: { name: { type: 'string', default: 'x' } } },
    );
    const result = await validateTemplate(await loadTemplateDir(dir));
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
    const result = await validateTemplate(await loadTemplateDir(dir));
    expect(result.issues.map((i) => [i.code, i.message])).toEqual([
      ['TEMPLATE.INVALID_DEFAULT', 'template.yaml: variables.port.default must be an integer, got "3000"'],
    ]);
  });

  it('finds a render failure on the false side of a boolean', async () => {
    const dir = await templateDir(
      { 'a.txt': '{% if docker %}ok{% else %}{{ missing.thing }}{% endif %}' },
      { variables: { docker: { type: 'boolean' }, missing: { type: 'string' } } },
    );
    const result = await validateTemplate(await loadTemplateDir(dir));
    expect(result.ok).toBe(false);
    expect(result.issues[0]?.code).toBe('TEMPLATE.RENDER_FAILED');
    expect(result.issues[0]?.message).toContain('(with docker false)');
  });

  it('reports a path that escapes the output and a syntax error', async () => {
    const escapes = await templateDir({ '{{ "../up" }}.txt': 'x' });
    expect((await validateTemplate(await loadTemplateDir(escapes))).issues.map((i) => i.code)).toEqual([
      'TEMPLATE.PATH_ESCAPES',
    ]);
    const syntax = await templateDir({ 'a.txt': '{% for %}' });
    expect((await validateTemplate(await loadTemplateDir(syntax))).issues.map((i) => i.code)).toEqual([
      'TEMPLATE.SYNTAX_ERROR',
    ]);
  });

  it('refuses a template that reaches constructor, with file and line, and never renders it', async () => {
    const root = await temp.make();
    const marker = path.join(root, 'pwned');
    const payload = `return process.getBuiltinModule("fs").writeFileSync(${JSON.stringify(marker)}, "x")`;
    const dir = await templateDir({
      'a.txt': `fine\n{{ range.constructor(${JSON.stringify(payload)})() }}\n`,
      'b.txt': `{{ cycler.constructor(${JSON.stringify(payload)})() }}`,
    });
    const result = await validateTemplate(await loadTemplateDir(dir));
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => [i.code, i.file, i.message.slice(0, 20)])).toEqual([
      ['TEMPLATE.UNSAFE_EXPRESSION', 'a.txt', 'a.txt: line 2: "cons'],
      ['TEMPLATE.UNSAFE_EXPRESSION', 'b.txt', 'b.txt: line 1: "cons'],
    ]);
    await expect(access(marker)).rejects.toThrow();
  });

  it('refuses at render a forbidden name built from values, which parsing cannot see', async () => {
    const dir = await templateDir(
      { 'a.txt': 'one\n{{ range[a ~ b]("return 1")() }}' },
      { variables: { a: { type: 'string', default: 'constr' }, b: { type: 'string', default: 'uctor' } } },
    );
    const result = await validateTemplate(await loadTemplateDir(dir));
    expect(result.issues).toEqual([
      {
        code: 'TEMPLATE.UNSAFE_EXPRESSION',
        severity: 'error',
        message:
          'a.txt: line 2: access to "constructor" is not allowed in templates: {{ range[a ~ b]("return 1")() }}',
        file: 'a.txt',
      },
    ]);
  });

  it('stops a template that renders forever: "render timed out"', async () => {
    const dir = await templateDir({
      'ok.txt': 'fine',
      'spin.txt': '{% for a in range(0, 100000) %}{% for b in range(0, 100000) %}{% endfor %}{% endfor %}',
    });
    const started = Date.now();
    const result = await validateTemplate(await loadTemplateDir(dir), undefined, {
      sandbox: { timeoutMs: 1000 },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.issues.map((i) => [i.code, i.message])).toEqual([
      ['TEMPLATE.RENDER_TIMEOUT', 'spin.txt: render timed out after 1 s'],
    ]);
  });

  it.each(['mcp-server-ts', 'fastify-service', 'cli-tool'])(
    'finds nothing wrong with built-in %s',
    async (name) => {
      const result = await validateTemplate(await loadTemplateDir(path.join(BUILTIN_TEMPLATES_DIR, name)));
      expect(result.issues).toEqual([]);
      expect(result.ok).toBe(true);
    },
  );

  it('checks size limits', async () => {
    const dir = await templateDir({ 'a.txt': 'x'.repeat(20) });
    const result = await validateTemplate(await loadTemplateDir(dir), {
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
