import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeCode } from './analyze.ts';

const TS_FIXTURE = `// header comment
import { x } from './x';

/*
 * block comment
 */
export function classify(n: number, flag: boolean): string {
  for (let i = 0; i < n; i++) {
    if (n > 10 && flag) return 'big';
    else if (n > 5) return flag ? 'mid' : 'odd';
  }
  return 'small' + x; // trailing comment
}

const add = (a: number, b: number) => a + b; /* inline */
`;

const PY_FIXTURE = `#!/usr/bin/env python3
# a comment

def f(x):
    return x  # trailing
`;

const MD_FIXTURE = `# Title

<!-- hidden -->
<!--
multi
-->
Some text.
`;

const bytes = (s: string) => Buffer.byteLength(s);

const made: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-analysis-'));
  made.push(dir);
  return dir;
}

/** Writes `files` (relative path → content) under a fresh temporary directory. */
async function fixture(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** A function of complexity `n`: one plus n - 1 `if` statements. */
function functionOfComplexity(name: string, n: number): string {
  const ifs = Array.from({ length: n - 1 }, (_, i) => `  if (v === ${i}) return ${i};`).join('\n');
  return `export function ${name}(v: number): number {\n${ifs}\n  return -1;\n}\n`;
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('analyzeCode', () => {
  it('counts lines per language exactly and skips binaries, unknown files and node_modules', async () => {
    const dir = await fixture({
      'src/classify.ts': TS_FIXTURE,
      'tools/run.py': PY_FIXTURE,
      'README.md': MD_FIXTURE,
      'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49]),
      'blob.dat.zzz': Buffer.from([0x41, 0, 0x42, 0, 0x43]),
      'notes.zzz': 'plain text nobody knows\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
      'src/node_modules/nested/index.ts': 'export const a = 1;\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
    });

    const report = await analyzeCode(dir);

    expect(report.languages).toEqual([
      {
        language: 'TypeScript',
        files: 1,
        lines: 15,
        code: 9,
        blank: 2,
        comment: 4,
        bytes: bytes(TS_FIXTURE),
      },
      { language: 'Markdown', files: 1, lines: 7, code: 2, blank: 1, comment: 4, bytes: bytes(MD_FIXTURE) },
      { language: 'Python', files: 1, lines: 5, code: 2, blank: 1, comment: 2, bytes: bytes(PY_FIXTURE) },
    ]);
    expect(report.totals).toEqual({
      files: 3,
      lines: 27,
      code: 13,
      blank: 4,
      comment: 10,
      bytes: bytes(TS_FIXTURE) + bytes(MD_FIXTURE) + bytes(PY_FIXTURE),
    });
    expect(report.skipped).toEqual({ binary: 2, tooLarge: 0, unknownLanguage: 1 });
  });

  it('measures cyclomatic complexity of each function exactly', async () => {
    const dir = await fixture({ 'src/classify.ts': TS_FIXTURE });

    const { complexity } = await analyzeCode(dir);

    // classify: 1 + for + if + && + else-if + ?: = 6; the arrow function has one path.
    expect(complexity.top).toEqual([
      { file: 'src/classify.ts', name: 'classify', line: 7, complexity: 6 },
      { file: 'src/classify.ts', name: '<arrow function>', line: 15, complexity: 1 },
    ]);
    expect(complexity).toMatchObject({
      files: 1,
      functions: 2,
      total: 7,
      average: 3.5,
      max: 6,
      parseErrors: [],
    });
    expect(complexity.tool).toMatch(/^eslint \d+\.\d+\.\d+ complexity rule \(cyclomatic\)$/);
  });

  it('lists the ten most complex functions, most complex first, ties by file then line', async () => {
    const sources: Record<string, string> = {};
    for (let n = 1; n <= 12; n++) {
      sources[`src/f${String(n).padStart(2, '0')}.ts`] = functionOfComplexity(`f${n}`, n);
    }
    sources['src/a-tie.js'] = functionOfComplexity('tie', 12).replace(/: number/g, '');
    const dir = await fixture(sources);

    const { complexity } = await analyzeCode(dir);

    expect(complexity.top.map((f) => [f.file, f.complexity])).toEqual([
      ['src/a-tie.js', 12],
      ['src/f12.ts', 12],
      ['src/f11.ts', 11],
      ['src/f10.ts', 10],
      ['src/f09.ts', 9],
      ['src/f08.ts', 8],
      ['src/f07.ts', 7],
      ['src/f06.ts', 6],
      ['src/f05.ts', 5],
      ['src/f04.ts', 4],
    ]);
    expect(complexity).toMatchObject({ files: 13, functions: 13, total: 90, average: 6.92, max: 12 });
  });

  it('reports a file that does not parse and still analyses the rest', async () => {
    const dir = await fixture({
      'bad.ts': 'export function (\n',
      'good.js': functionOfComplexity('ok', 3).replace(/: number/g, ''),
    });

    const report = await analyzeCode(dir);

    expect(report.complexity.parseErrors).toEqual([
      { file: 'bad.ts', message: expect.stringMatching(/line 1/) },
    ]);
    expect(report.complexity.top).toEqual([{ file: 'good.js', name: 'ok', line: 1, complexity: 3 }]);
    expect(report.complexity.files).toBe(1);
    // Its lines still count: a syntax error does not make a file less TypeScript.
    expect(report.languages.map((l) => [l.language, l.lines])).toEqual([
      ['JavaScript', 5],
      ['TypeScript', 1],
    ]);
  });

  it('refuses a tree with more files than maxFiles', async () => {
    const dir = await fixture({ 'a.ts': '1;\n', 'b.ts': '2;\n', 'c/d.ts': '3;\n' });

    await expect(analyzeCode(dir, { maxFiles: 2 })).rejects.toMatchObject({
      kind: 'validation',
      code: 'ANALYSIS.TOO_MANY_FILES',
    });
    await expect(analyzeCode(dir, { maxFiles: 3 })).resolves.toMatchObject({ totals: { files: 3 } });
  });

  it('reports progress up to the total, one step per file', async () => {
    const dir = await fixture({
      'a.ts': '1;\n',
      'b.md': 'x\n',
      'c.png': Buffer.from([0, 1]),
      'd.zzz': '?\n',
    });
    const calls: Array<[number, number]> = [];

    await analyzeCode(dir, { onProgress: (done, total) => calls.push([done, total]) });

    expect(calls).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('stops between files when aborted', async () => {
    const dir = await fixture({ 'a.ts': '1;\n', 'b.ts': '2;\n', 'c.ts': '3;\n' });
    const controller = new AbortController();
    const seen: number[] = [];

    const run = analyzeCode(dir, {
      signal: controller.signal,
      onProgress: (done) => {
        seen.push(done);
        if (done === 1) controller.abort();
      },
    });

    await expect(run).rejects.toMatchObject({ kind: 'timeout', code: 'ANALYSIS.ABORTED' });
    expect(seen).toEqual([0, 1]);
  });

  it('does not follow a symbolic link to a directory outside', async () => {
    const outside = await fixture({ 'secret.ts': 'export const secret = 1;\n' });
    const dir = await fixture({ 'inside.ts': 'export const inside = 1;\n' });
    await symlink(outside, join(dir, 'linked-dir'), 'dir');
    await symlink(join(outside, 'secret.ts'), join(dir, 'linked.ts'), 'file');

    const report = await analyzeCode(dir);

    expect(report.totals.files).toBe(1);
    expect(report.languages).toEqual([
      expect.objectContaining({ language: 'TypeScript', files: 1, lines: 1 }),
    ]);
  });

  it('analyses a single file given as the path', async () => {
    const dir = await fixture({ 'src/classify.ts': TS_FIXTURE });

    const report = await analyzeCode(join(dir, 'src/classify.ts'));

    expect(report.totals).toMatchObject({ files: 1, lines: 15 });
    expect(report.complexity.top[0]).toEqual({
      file: 'classify.ts',
      name: 'classify',
      line: 7,
      complexity: 6,
    });
  });

  it('counts files above maxFileBytes as too large without reading them', async () => {
    const dir = await fixture({ 'big.ts': `${'const a = 1;\n'.repeat(100)}`, 'small.ts': '1;\n' });

    const report = await analyzeCode(dir, { maxFileBytes: 100 });

    expect(report.skipped).toEqual({ binary: 0, tooLarge: 1, unknownLanguage: 0 });
    expect(report.totals.files).toBe(1);
  });

  it('answers not_found for a path that does not exist', async () => {
    const dir = await tempDir();

    await expect(analyzeCode(join(dir, 'missing'))).rejects.toMatchObject({
      kind: 'not_found',
      code: 'ANALYSIS.PATH_NOT_FOUND',
    });
  });
});
