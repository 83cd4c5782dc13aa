import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../kernel/logger.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import { exitCodeOf, formatError, ProblemError, UsageError } from './errors.ts';
import {
  type CliIo,
  parseVars,
  templatesAnalyze,
  templatesGenerate,
  templatesSearch,
  templatesSync,
  templatesValidate,
} from './templates.command.ts';

describe('--var', () => {
  it('splits at the first "=" and keeps values as strings', () => {
    expect(parseVars(['projectName=my-server', 'port=8080', 'expr==b', 'empty='])).toEqual({
      projectName: 'my-server',
      port: '8080',
      expr: '=b',
      empty: '',
    });
  });

  it('lets a later pair win', () => {
    expect(parseVars(['a=1', 'a=2'])).toEqual({ a: '2' });
  });

  it('is a usage error (exit 2) without "=" or without a key', () => {
    for (const bad of ['projectName', '=value']) {
      const error = (() => {
        try {
          parseVars([bad]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect(exitCodeOf(error)).toBe(2);
    }
    expect(() => parseVars(['projectName'])).toThrow('--var projectName: expected key=value');
  });
});

function capture(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stderr = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        err += String(chunk);
        done();
      },
    }),
    { isTTY: false },
  );
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr,
    out: () => out,
    err: () => err,
  };
}

describe('usage errors before any request', () => {
  // No gateway listens at this URL: these must fail before they try to reach it.
  const url = 'http://127.0.0.1:1';

  it('validate needs a template or --path, not both', async () => {
    await expect(templatesValidate(undefined, { url }, capture())).rejects.toBeInstanceOf(UsageError);
    await expect(templatesValidate('x', { url, path: 'dir' }, capture())).rejects.toBeInstanceOf(UsageError);
  });

  it('analyze needs a path or --project, not both', async () => {
    await expect(templatesAnalyze(undefined, { url }, capture())).rejects.toBeInstanceOf(UsageError);
  });

  it('search refuses a --limit that is not a positive integer', async () => {
    await expect(templatesSearch([], { url, limit: '1.5' }, capture())).rejects.toThrow(
      '--limit must be a positive integer',
    );
  });

  it('an unreachable gateway is an error that says where it looked', async () => {
    const error = await templatesSearch([], { url }, capture()).catch((e: unknown) => e);
    expect(formatError(error)).toMatch(/^error: cannot reach the gateway at http:\/\/127\.0\.0\.1:1 /);
    expect(exitCodeOf(error)).toBe(1);
  });
});

/**
 * The commands against a whole embedded system (PGlite, in-process bus) as `switchyard start`
 * runs it: the built-in templates are synced on start, and generate writes into the workspace.
 */
describe('switchyard templates against a running gateway', () => {
  let system: System;
  let workspace: string;
  /** The gateway and the administrator key this first start made (in memory: not on disk). */
  let gw: { url: string; token: string };

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_LOG_LEVEL: 'silent',
      }),
      silentLogger(),
    );
    gw = { url: system.url!, token: system.access.bootstrapKey! };
  });

  afterAll(async () => {
    await system?.stop();
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('says how to pass a credential when it has none, and never prints the one it has', async () => {
    const error = await templatesSearch([], { url: gw.url }, capture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect(formatError(error)).toMatch(
      /^error: .+ \(AUTH\.REQUIRED\)\nno credential was sent: pass --token /,
    );

    const refused = await templatesSearch(
      [],
      { url: gw.url, token: `${gw.token.slice(0, -4)}AAAA` },
      capture(),
    ).catch((e: unknown) => e);
    expect(formatError(refused)).toMatch(/\(AUTH\.INVALID_CREDENTIAL\)\nthe gateway refused the credential/);
    expect(formatError(refused)).not.toContain(gw.token.slice(20, -4));
  });

  it('finds the built-in mcp-server-ts template once it is synced', { timeout: 60_000 }, async () => {
    let io = capture();
    for (const deadline = Date.now() + 45_000; Date.now() < deadline; await sleep(250)) {
      io = capture();
      await templatesSearch(['mcp'], gw, io);
      if (io.out().includes('mcp-server-ts')) break;
    }
    expect(io.out()).toMatch(/^NAME\s+VERSION\s+STACK\s+DESCRIPTION\s+TAGS\n/);
    expect(io.out()).toMatch(/\nmcp-server-ts\s+\d+\.\d+\.\d+\s+typescript-mcp\s/);

    const none = capture();
    expect(await templatesSearch(['zzzz-no-such-template'], gw, none)).toBe(0);
    expect(none.out()).toContain('no templates match "zzzz-no-such-template"');
    expect(none.out()).toContain('switchyard templates sync');
  });

  it('generates a project into the workspace, with progress, and refuses to overwrite it', async () => {
    const io = capture();
    const code = await templatesGenerate(
      'mcp-server-ts',
      'my-server',
      { ...gw, var: ['projectName=my-server', 'port=8080'] },
      io,
    );
    expect(code).toBe(0);
    const id = /project\s+([0-9a-f-]{36})/.exec(io.out())?.[1];
    expect(id).toBeDefined();
    expect(io.out()).toMatch(/destination\s+my-server/);
    const files = Number(/files\s+(\d+)/.exec(io.out())?.[1]);
    expect(files).toBeGreaterThan(5);
    // Progress went to stderr as plain lines (not a terminal), the result to stdout.
    expect(io.err()).toMatch(/^generate: rendering mcp-server-ts@/);
    const pkg = JSON.parse(await readFile(join(workspace, 'my-server', 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-server');

    const again = await templatesGenerate(
      'mcp-server-ts',
      'my-server',
      { ...gw, var: ['projectName=my-server'], quiet: true },
      capture(),
    ).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ProblemError);
    expect(formatError(again)).toMatch(/^error: .+ \(WORKSPACE\.DESTINATION_NOT_EMPTY\)\n$/);

    const analysis = capture();
    expect(await templatesAnalyze(undefined, { ...gw, project: id!, quiet: true }, analysis)).toBe(0);
    expect(analysis.out()).toMatch(/\nTypeScript\s+\d+/);
    expect(analysis.err()).toBe('');
  });

  it('syncs again and reports the built-in source unchanged', async () => {
    const io = capture();
    expect(await templatesSync(undefined, { ...gw, quiet: true }, io)).toBe(0);
    expect(io.out()).toMatch(/^builtin: unchanged, \d+ templates in the catalog/m);
  });

  it('validates a catalog template, and exits 1 for a directory that is not a template', async () => {
    const ok = capture();
    expect(await templatesValidate('mcp-server-ts', gw, ok)).toBe(0);
    expect(ok.out()).toMatch(/^ok mcp-server-ts@/);

    const notOk = capture();
    expect(await templatesValidate(undefined, { ...gw, path: 'my-server' }, notOk)).toBe(1);
    expect(notOk.out()).toMatch(/^not ok my-server/);
    expect(notOk.out()).toContain('TEMPLATE.NO_MANIFEST');
  });
});
