import { describe, expect, it } from 'vitest';
import { compileGlobs, globToRegExp } from './glob.ts';
import { camelCase, constantCase, kebabCase, pascalCase, snakeCase } from './sandbox/render-core.mjs';

describe('globs', () => {
  it.each([
    ['**/*.png', 'a/b/c.png', true],
    ['**/*.png', 'c.png', true],
    ['**/*.png', '.github/logo.png', true],
    ['*.md', 'docs/a.md', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['{src,lib}/*.ts', 'lib/x.ts', true],
    ['[!a]*.txt', 'a1.txt', false],
    ['file?.txt', 'file1.txt', true],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (glob, p, expected) => {
    expect(globToRegExp(glob).test(p)).toBe(expected);
  });

  it('covers everything below a matching directory', () => {
    expect(compileGlobs(['build']).matches('build/x/y.js')).toBe(true);
    expect(compileGlobs(['build']).matches('src/build.ts')).toBe(false);
  });

  it('refuses an unclosed brace', () => {
    expect(() => globToRegExp('{a,b')).toThrow('unclosed "{"');
  });
});

describe('case filters', () => {
  it('split words at separators, case changes and acronyms', () => {
    expect(camelCase('my-HTTPServer_v2')).toBe('myHttpServerV2');
    expect(pascalCase('my project')).toBe('MyProject');
    expect(kebabCase('MyProjectName')).toBe('my-project-name');
    expect(snakeCase('myProject-name')).toBe('my_project_name');
    expect(constantCase('my-project')).toBe('MY_PROJECT');
  });
});
