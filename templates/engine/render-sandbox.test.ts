import { execFile } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../domains/templates/manifest.ts';
import { makeTempDirs } from '../../test/templates.ts';
import type { RenderableTemplate } from './render.ts';
import { openRenderer, sandboxExecArgv } from './render-sandbox.ts';

/**
 * The second line of defence: what the sandboxed child does with a template that got past the
 * static check (or was never checked). These render directly, without usedVariables.
 */

const run = promisify(execFile);
const temp = await makeTempDirs();
afterEach(temp.cleanup);

const manifest = manifestSchema.parse({ name: 'demo', version: '1.0.0', stack: 'node', description: 'demo' });
const template = (...files: Array<[string, string]>): RenderableTemplate => ({
  manifest,
  files: files.map(([p, c]) => ({ path: p, content: Buffer.from(c), binary: false, render: true })),
});

const renderer = openRenderer({ timeoutMs: 2_000 });
afterAll(() => renderer.close());

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('the sandboxed renderer', () => {
  it('refuses every road to Function, and nothing the payload asked for happens', async () => {
    const dir = await temp.make();
    const marker = path.join(dir, 'pwned');
    const secret = path.join(dir, 'secret.key');
    await writeFile(secret, 'the-secret-key-0f3a9c');
    const code = JSON.stringify(
      `const fs = process.getBuiltinModule("fs"); fs.writeFileSync(${JSON.stringify(marker)}, "x"); ` +
        `return fs.readFileSync(${JSON.stringify(secret)}, "utf8") + fs.readFileSync("/proc/self/environ", "utf8")`,
    );
    const payloads = [
      `{{ range.constructor(${code})() }}`,
      `{{ cycler.constructor(${code})() }}`,
      `{{ joiner.constructor(${code})() }}`,
      `{{ lipsum.constructor(${code})() }}`,
      `{{ ("x" | upper).constructor.constructor(${code})() }}`,
      `{{ range["constr" ~ "uctor"](${code})() }}`,
      `{{ range[a ~ b](${code})() }}`,
      `{{ range[[a ~ b]](${code})() }}`,
      `{{ range.__proto__ }}`,
      `{{ constructor }}`,
      `{{ range.caller }}`,
    ];
    for (const payload of payloads) {
      const attempt = renderer.render(template(['a.txt', `line one\n${payload}\n`]), {
        a: 'constr',
        b: 'uctor',
      });
      await expect(attempt, payload).rejects.toMatchObject({
        kind: 'validation',
        code: 'TEMPLATE.UNSAFE_EXPRESSION',
        message: expect.stringMatching(
          /^a\.txt: line 2: access to "(constructor|__proto__|caller)" is not allowed/,
        ),
      });
      const error = await attempt.catch((e: Error) => e.message);
      expect(error).not.toContain('the-secret-key');
    }
    expect(await exists(marker)).toBe(false);
  });

  it('renders a template of no files, and one template many times in one child', async () => {
    expect(await renderer.render({ manifest, files: [] }, {})).toEqual([]);
    const t = template(['{{ n }}.txt', '{{ n }}']);
    for (const n of ['a', 'b', 'c']) {
      expect((await renderer.render(t, { n })).map((f) => [f.path, f.content.toString()])).toEqual([
        [`${n}.txt`, n],
      ]);
    }
  });

  it('finds filters and tests only among its own: not Object.prototype', async () => {
    await expect(renderer.render(template(['a.txt', '{{ "x" | constructor }}']), {})).rejects.toMatchObject({
      code: 'TEMPLATE.RENDER_FAILED',
      message: expect.stringContaining('filter not found: constructor'),
    });
    await expect(renderer.render(template(['a.txt', '{{ 1 is constructor }}']), {})).rejects.toMatchObject({
      message: expect.stringContaining('test not found: constructor'),
    });
  });

  it('kills a render that runs past its time, then renders the next one in a new child', async () => {
    const spin = template([
      'spin.txt',
      '{% for a in range(0, 100000) %}{% for b in range(0, 100000) %}{% endfor %}{% endfor %}',
    ]);
    const started = Date.now();
    await expect(renderer.render(spin, {})).rejects.toMatchObject({
      kind: 'validation',
      code: 'TEMPLATE.RENDER_TIMEOUT',
      message: 'spin.txt: render timed out after 2 s',
    });
    expect(Date.now() - started).toBeLessThan(8_000);
    const out = await renderer.render(template(['ok.txt', 'still {{ here }}']), { here: 'here' });
    expect(out.map((f) => f.content.toString())).toEqual(['still here']);
  });

  it('stops a render that eats its memory', async () => {
    const small = openRenderer({ maxOldSpaceMb: 32, timeoutMs: 20_000 });
    try {
      await expect(
        small.render(template(['big.txt', '{% for i in range(0, 200000000) %}{% endfor %}']), {}),
      ).rejects.toMatchObject({
        kind: 'validation',
        code: 'TEMPLATE.RENDER_FAILED',
        message: 'big.txt: render ran out of memory (over 32 MB)',
      });
    } finally {
      await small.close();
    }
  });

  it('refuses output past its limit', async () => {
    const capped = openRenderer({ maxOutputBytes: 1000 });
    try {
      await expect(
        capped.render(template(['a.txt', '{% for i in range(0, 2000) %}x{% endfor %}']), {}),
      ).rejects.toMatchObject({ code: 'TEMPLATE.TOO_LARGE' });
    } finally {
      await capped.close();
    }
  });

  it('runs its child without files, processes, workers, addons or code from strings', async () => {
    const dir = await temp.make();
    const secret = path.join(dir, 'secret.key');
    await writeFile(secret, 'the-secret-key-0f3a9c');
    const marker = path.join(dir, 'pwned');
    const probe = `
      const fs = require('node:fs');
      const tries = {
        read: () => fs.readFileSync(${JSON.stringify(secret)}, 'utf8'),
        environ: () => fs.readFileSync('/proc/self/environ', 'utf8'),
        write: () => fs.writeFileSync(${JSON.stringify(marker)}, 'x'),
        spawn: () => require('node:child_process').execFileSync('true'),
        worker: () => new (require('node:worker_threads').Worker)('1', { eval: true }),
        addon: () => process.dlopen({ exports: {} }, '/nonexistent.node'),
        eval: () => eval('1 + 1'),
        function: () => Function('return 1')(),
      };
      const out = {};
      for (const [name, f] of Object.entries(tries)) {
        try { f(); out[name] = 'allowed'; } catch (e) { out[name] = e.code ?? e.name; }
      }
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await run(process.execPath, [...sandboxExecArgv(), '-e', probe], {
      env: {},
      cwd: dir,
    });
    const out = JSON.parse(stdout) as Record<string, string>;
    expect(out).toEqual({
      read: 'ERR_ACCESS_DENIED',
      environ: 'ERR_ACCESS_DENIED',
      write: 'ERR_ACCESS_DENIED',
      spawn: 'ERR_ACCESS_DENIED',
      worker: 'ERR_ACCESS_DENIED',
      addon: expect.stringMatching(/ERR_DLOPEN_DISABLED|ERR_ACCESS_DENIED/),
      eval: 'EvalError',
      function: 'EvalError',
    });
    expect(await exists(marker)).toBe(false);
  });
});
