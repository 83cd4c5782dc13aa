import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../runtime/compose.ts';
import { TEST_ADMIN_KEY } from '../test/access.ts';
import { startMemorySystem } from '../test/systems.ts';
import {
  deploy,
  deploymentsList,
  deploymentsRollback,
  deploymentsShow,
  deploymentsStop,
} from './deploy.command.ts';
import type { CliIo } from './io.ts';

const SDK = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/sdk/dist/esm/server/', import.meta.url),
);

/** What a command printed: stdout, and stderr (progress: plain lines, it is not a terminal). */
function capture(): CliIo & { out(): string; err(): string } {
  let out = '';
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr,
    out: () => out,
    err: () => err,
  };
}

/** `switchyard deploy` and `switchyard deployments …` against a whole in-memory system, as a user runs them. */
describe('switchyard deploy / deployments', () => {
  let system: System;
  let tmp: string;
  const gw = () => ({ url: system.url!, token: TEST_ADMIN_KEY });

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-deploy-cli-')));
    const app = path.join(tmp, 'workspace', 'apps', 'tiny');
    await mkdir(app, { recursive: true });
    await writeFile(
      path.join(app, 'package.json'),
      JSON.stringify({ name: 'tiny', version: '1.0.0', type: 'module', bin: 'server.mjs' }),
    );
    await writeFile(
      path.join(app, 'server.mjs'),
      `import { McpServer } from ${JSON.stringify(path.join(SDK, 'mcp.js'))};
import { StdioServerTransport } from ${JSON.stringify(path.join(SDK, 'stdio.js'))};
const server = new McpServer({ name: 'tiny', version: '1.0.0' });
server.registerTool('hello', { description: 'hello' }, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
await server.connect(new StdioServerTransport());
`,
    );
    system = await startMemorySystem({
      SWITCHYARD_WORKSPACE: path.join(tmp, 'workspace'),
      SWITCHYARD_DEPLOY_DIR: path.join(tmp, 'deployments'),
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    });
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  let first = '';

  it('deploys a directory, a line per step, and exits 0 with the revision', async () => {
    const io = capture();
    const exit = await deploy(
      'dir:apps/tiny',
      { ...gw(), server: 'tiny', expectTool: ['hello'], smoke: 'hello' },
      io,
    );
    expect(exit, io.err()).toBe(0);
    expect(io.out()).toMatch(/^deployed tiny: revision 1 is live \(.* s, [0-9a-f-]{36}\)\n$/);
    first = /, ([0-9a-f-]{36})\)/.exec(io.out())![1]!;
    for (const step of [
      '[1/5] build done',
      '[2/5] start done',
      '[3/5] health done',
      '[4/5] switch done',
      '[5/5] drain done',
    ]) {
      expect(io.err()).toContain(step);
    }
  }, 120_000);

  it('a deployment that rolls back exits 1 with the failed step and the reason', async () => {
    const io = capture();
    const exit = await deploy('dir:apps/missing', { ...gw(), server: 'tiny' }, io);
    expect(exit).toBe(1);
    expect(io.out()).toContain(
      'rolled back: tiny failed at build: no directory apps/missing in the workspace',
    );
    expect(io.out()).toContain('the previous revision keeps serving');
    expect(io.err()).toContain('[1/5] build FAILED');
    expect(io.err()).toContain('undone: build');
  }, 120_000);

  it('lists, shows, refuses to stop a finished one, and rolls back', async () => {
    const list = capture();
    await deploymentsList({ ...gw() }, list);
    expect(list.out()).toMatch(/SERVER\s+STATUS/);
    expect(list.out()).toContain('dir:apps/missing');
    expect(list.out()).toContain('rolled-back');

    const show = capture();
    await deploymentsShow(first, { ...gw() }, show);
    expect(show.out()).toContain(`deployment ${first}: tiny from dir:apps/tiny`);
    expect(show.out()).toContain('status: succeeded (revision 1)');
    expect(show.out()).toMatch(/ {2}health +completed in/);

    await expect(deploymentsStop(first, { ...gw() }, capture())).rejects.toThrow(/DEPLOYMENT\.FINISHED/);

    const back = capture();
    expect(await deploymentsRollback(first, { ...gw(), quiet: true }, back)).toBe(0);
    expect(back.out()).toContain('deployed tiny: revision 2 is live');
  }, 120_000);

  it('a refused request is the gateway’s problem, said plainly', async () => {
    await expect(
      deploy('dir:apps/tiny', { ...gw(), server: 'tiny', replicas: '99' }, capture()),
    ).rejects.toThrow(/REQUEST\.INVALID/);
  });
});
