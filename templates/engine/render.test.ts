import { afterAll, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../domains/templates/manifest.ts';
import { AppError } from '../../kernel/errors.ts';
import { PNG_BYTES } from '../../test/templates.ts';
import { assertSafeTemplate, type RenderableTemplate, renderTemplate, usedVariables } from './render.ts';
import { openRenderer } from './render-sandbox.ts';

const manifest = manifestSchema.parse({ name: 'demo', version: '1.0.0', stack: 'node', description: 'demo' });

function text(path: string, content: string) {
  return { path, content: Buffer.from(content), binary: false, render: true };
}

function template(...files: RenderableTemplate['files']): RenderableTemplate {
  return { manifest, files };
}

// One sandboxed child for the file, as a sync uses one for its batch.
const renderer = openRenderer();
afterAll(() => renderer.close());
const render = (
  t: RenderableTemplate,
  values: Record<string, unknown>,
  onProgress?: (done: number, total: number) => void,
) => renderTemplate(t, values, { renderer, ...(onProgress && { onProgress }) });

async function renderError(t: RenderableTemplate, values: Record<string, unknown>): Promise<AppError> {
  try {
    await render(t, values);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected the render to fail');
}

describe('renderTemplate', () => {
  it('renders templated directory and file names and drops .njk, in a child of its own', async () => {
    const out = await renderTemplate(
      template(
        text(
          'src/{{ name | kebabCase }}/{{ name | pascalCase }}.ts.njk',
          'export class {{ name | pascalCase }} {}\n',
        ),
      ),
      { name: 'myServer' },
    );
    expect(out.map((f) => [f.path, f.content.toString()])).toEqual([
      ['src/my-server/MyServer.ts', 'export class MyServer {}\n'],
    ]);
  });

  it('leaves out a file or directory whose name renders empty', async () => {
    const t = template(
      text('{% if docker %}Dockerfile{% endif %}', 'FROM node:20\n'),
      text('{% if ci %}.github{% endif %}/workflows/ci.yml', 'on: push\n'),
      text('README.md', 'hi'),
    );
    expect((await render(t, { docker: false, ci: false })).map((f) => f.path)).toEqual(['README.md']);
    expect((await render(t, { docker: true, ci: true })).map((f) => f.path)).toEqual([
      'Dockerfile',
      '.github/workflows/ci.yml',
      'README.md',
    ]);
  });

  it('copies binary and copy-only files byte for byte', async () => {
    const out = await render(
      template(
        { path: 'assets/{{ name }}.png', content: PNG_BYTES, binary: true, render: false },
        { path: 'raw.njk', content: Buffer.from('{{ left as is }}'), binary: false, render: false },
      ),
      { name: 'logo' },
    );
    expect(out[0]?.path).toBe('assets/logo.png');
    expect(out[0]?.content.equals(PNG_BYTES)).toBe(true);
    expect(out[1]).toEqual({ path: 'raw.njk', content: Buffer.from('{{ left as is }}') });
  });

  it('trims block lines, keeps the execute bit, and offers json', async () => {
    const out = await render(
      template({
        ...text('run.sh', '#!/bin/sh\n{% if verbose %}\nset -x\n{% endif %}\necho {{ cfg | json }}\n'),
        executable: true,
      }),
      { verbose: true, cfg: { a: 1 } },
    );
    expect(out[0]).toEqual({
      path: 'run.sh',
      content: Buffer.from('#!/bin/sh\nset -x\necho {"a":1}\n'),
      executable: true,
    });
  });

  it('includes another file of the template', async () => {
    const out = await render(
      template(
        text('a.txt', '{% include "partials/h.txt" %}body'),
        text('partials/h.txt', '// {{ name }}\n'),
      ),
      { name: 'x' },
    );
    expect(out[0]?.content.toString()).toBe('// x\nbody');
  });

  it('fails on an undefined variable, naming the file and line', async () => {
    const e = await renderError(template(text('src/index.ts', 'const a = 1;\nconst b = {{ nmae }};\n')), {
      name: 'x',
    });
    expect(e.code).toBe('TEMPLATE.RENDER_FAILED');
    expect(e.message).toBe(
      'src/index.ts: line 2: attempted to output null or undefined value: const b = {{ nmae }};',
    );
    expect(e.details).toEqual({ file: 'src/index.ts' });
  });

  it.each([
    ['../outside', 'a "..'],
    ['/etc/passwd', 'an absolute path'],
    ['a\\..\\b', 'a backslash'],
  ])('refuses a path value %j (%s)', async (value) => {
    const e = await renderError(template(text('{{ dir }}/x.txt', 'x')), { dir: value });
    expect(e.code).toBe('TEMPLATE.PATH_ESCAPES');
    expect(e.message).toMatch(/^\{\{ dir \}\}\/x\.txt: renders to /);
  });

  it('allows a value to nest directories', async () => {
    expect((await render(template(text('{{ pkg }}/x.txt', 'x')), { pkg: 'a/b' }))[0]?.path).toBe('a/b/x.txt');
  });

  it('refuses two files rendering to the same path', async () => {
    const e = await renderError(template(text('{{ a }}.txt', '1'), text('{{ b }}.txt', '2')), {
      a: 'x',
      b: 'x',
    });
    expect(e.code).toBe('TEMPLATE.DUPLICATE_PATH');
  });

  it('reports progress over every file', async () => {
    const seen: Array<[number, number]> = [];
    await render(template(text('a', 'a'), text('{% if no %}b{% endif %}', 'b')), { no: false }, (d, t) =>
      seen.push([d, t]),
    );
    expect(seen).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });
});

describe('usedVariables', () => {
  it('finds what paths and contents read, not what the template binds itself', () => {
    const { names, issues } = usedVariables(
      template(
        text(
          'src/{{ name }}.ts',
          [
            '{% set greeting = "hi " + who %}',
            '{% for dep in deps %}{{ loop.index }} {{ dep.name | upper }}{% endfor %}',
            '{% macro field(label, kind="string") %}{{ label }}: {{ kind }}{% endmacro %}',
            '{{ field(title) }} {{ range(3) | join(",") }} {{ greeting }}',
            '{{ config.port if config is defined }} {{ { key: value } | json }}',
          ].join('\n'),
        ),
        { path: 'logo-{{ size }}.png', content: PNG_BYTES, binary: true, render: false },
      ),
    );
    expect(issues).toEqual([]);
    expect([...names.keys()].sort()).toEqual(['config', 'deps', 'name', 'size', 'title', 'value', 'who']);
    expect(names.get('name')).toEqual(['src/{{ name }}.ts']);
  });

  it('reports a syntax error with the file and line', () => {
    const { issues } = usedVariables(template(text('a.txt', 'one\n{% if %}\n')));
    expect(issues).toEqual([
      {
        code: 'TEMPLATE.SYNTAX_ERROR',
        severity: 'error',
        message: 'a.txt: line 2: unexpected token: %}',
        file: 'a.txt',
      },
    ]);
  });

  const unsafe = (src: string) =>
    usedVariables(template(text('src/x.ts', src))).issues.map((i) => [i.code, i.message]);

  it.each([
    ['range.constructor', '{{ range.constructor("return process")() }}'],
    ['cycler', '{{ cycler.constructor("return 1")() }}'],
    ['joiner', '{{ joiner().constructor }}'],
    ['lipsum', '{{ lipsum.constructor }}'],
    ['a filter function', '{{ ("a" | upper).constructor }}'],
    ['a string literal lookup', '{{ range["constructor"] }}'],
    ['a concatenation', '{{ range["constr" ~ "uctor"] }}'],
    ['an addition in parentheses', '{{ range[("const" + "ructor")] }}'],
    ['a joined list', '{{ range[["con", "structor"] | join] }}'],
    ['a filtered literal', '{{ range["CONSTRUCTOR" | lower] }}'],
    ['either branch of an if', '{{ range["x" if a else "constructor"] }}'],
    ['a name set aside for later', '{% set k = "__pro" ~ "to__" %}{{ range[k] }}'],
    ['a bare name', '{{ constructor }}'],
    ['a filter of that name', '{{ "return 1" | constructor }}'],
    ['a prototype', '{{ x.prototype }}'],
    ['a getter definer', '{{ x.__defineGetter__ }}'],
    ['a caller', '{{ range.caller }}'],
  ])('refuses a template that reaches a forbidden name through %s, with the line', (_how, expr) => {
    const issues = unsafe(`line one\n${expr}\n`);
    expect(issues.length).toBeGreaterThan(0);
    for (const [code, message] of issues) {
      expect(code).toBe('TEMPLATE.UNSAFE_EXPRESSION');
      expect(message).toMatch(
        /^src\/x\.ts: line 2: "(constructor|__proto__|prototype|__defineGetter__|caller)" may not be used/,
      );
    }
  });

  it('refuses a forbidden name in a file name too', () => {
    const { issues } = usedVariables(template(text('{{ range.constructor }}.txt', 'x')));
    expect(issues.map((i) => [i.code, i.message])).toEqual([
      [
        'TEMPLATE.UNSAFE_EXPRESSION',
        '{{ range.constructor }}.txt (path): line 1: "constructor" may not be used in a template (it leads to running code)',
      ],
    ]);
  });

  it('lets ordinary templates be: caller() in a macro, text that says constructor, a looked-up key', () => {
    const src = [
      '{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}',
      'class A { constructor() { this.__proto__ = null; } }',
      '{% for k, v in { a: 1 } %}{{ { a: 2 }[k] }}{% endfor %}',
    ].join('\n');
    expect(unsafe(src)).toEqual([]);
  });
});

describe('assertSafeTemplate', () => {
  it('throws UNSAFE_EXPRESSION naming the file and the line', () => {
    expect(() =>
      assertSafeTemplate(template(text('a.txt', 'ok'), text('b.txt', '\n{{ range.constructor }}'))),
    ).toThrow(
      expect.objectContaining({
        code: 'TEMPLATE.UNSAFE_EXPRESSION',
        message: 'b.txt: line 2: "constructor" may not be used in a template (it leads to running code)',
        details: expect.objectContaining({ file: 'b.txt' }),
      }),
    );
    expect(() => assertSafeTemplate(template(text('a.txt', '{{ ok }}')))).not.toThrow();
  });
});
