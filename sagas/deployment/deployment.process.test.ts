import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDeploymentUseCases } from '../../application/deployments/deployments.ts';
import {
  type DeploymentState,
  makeDeploymentCommands,
  RequestDeploymentInput,
  registerDeploymentEvents,
} from '../../domains/deployments/index.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import type { System } from '../../runtime/compose.ts';
import { repoRoot } from '../../test/runners.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

const sdk = (path: string) =>
  JSON.stringify(join(repoRoot, 'node_modules/@modelcontextprotocol/sdk/dist/esm', path));

/** A small MCP server over stdio, as a project in the workspace: `version` answers `label`. */
function serverSource(label: string, options: { crash?: boolean } = {}): string {
  return `
import { McpServer } from ${sdk('server/mcp.js')};
import { StdioServerTransport } from ${sdk('server/stdio.js')};
${options.crash ? "throw new Error('this revision cannot start');" : ''}
const server = new McpServer({ name: 'calc', version: ${JSON.stringify(label)} });
server.registerTool('version', { description: 'the revision' }, async () => ({ content: [{ type: 'text', text: ${JSON.stringify(label)} }] }));
server.registerTool('add', { description: 'a + b' }, async () => ({ content: [{ type: 'text', text: '42' }] }));
await server.connect(new StdioServerTransport());
`;
}

describe('the deployment saga, in an embedded system', () => {
  let system: System;
  let workspace: string;
  let deployRoot: string;
  let useCases: ReturnType<typeof makeDeploymentUseCases>;
  let commands: ReturnType<typeof makeDeploymentCommands>;
  let n = 0;
  // The saga opens the smoke call's sealed arguments with the system's key: the test seals with it too.
  const secretKey = randomBytes(32);

  const meta = (): CommandMeta => ({
    commandId: `test-${Date.now()}-${n++}`,
    actor: 'alice',
    tenant: 'default',
    correlationId: `c-${n}`,
    issuedAt: new Date(),
  });

  async function project(dir: string, label: string, options: { crash?: boolean; build?: string } = {}) {
    const path = join(workspace, dir);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'server.mjs'), serverSource(label, options));
    await writeFile(
      join(path, 'package.json'),
      JSON.stringify({
        name: 'calc',
        version: '1.0.0',
        type: 'module',
        bin: { calc: 'server.mjs' },
        ...(options.build && { scripts: { build: options.build } }),
      }),
    );
    return dir;
  }

  async function deploy(dir: string, extra: Record<string, unknown> = {}) {
    const input = RequestDeploymentInput.parse({
      server: 'calc',
      source: { directory: dir },
      health: { expectedTools: ['version'], smoke: { tool: 'add', arguments: {} } },
      ...extra,
    });
    return (await useCases.request(input, meta())).deploymentId;
  }

  async function ended(id: string, withinMs = 90_000): Promise<DeploymentState> {
    const until = Date.now() + withinMs;
    for (;;) {
      const s = await commands.state(id);
      if (s.status === 'succeeded' || s.status === 'rolled-back') return s;
      if (Date.now() > until) throw new Error(`deployment ${id} still ${s.status} after ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const version = async () => {
    const r = await client(system)('/api/v1/servers/calc/tools/version', { body: {} });
    return r.status === 200 ? r.text : `HTTP ${r.status} ${r.text}`;
  };

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'sy-deploy-ws-'));
    deployRoot = await mkdtemp(join(tmpdir(), 'sy-deploy-builds-'));
    system = await startMemorySystem({
      SWITCHYARD_SECRET_KEY: secretKey.toString('base64'),
      SWITCHYARD_WORKSPACE: workspace,
      SWITCHYARD_DEPLOY_DIR: deployRoot,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    });
    const registry = registerDeploymentEvents(new EventTypeRegistry());
    commands = makeDeploymentCommands({ store: system.store, registry });
    useCases = makeDeploymentUseCases({
      deployments: commands,
      secrets: createSecretBox(secretKey),
      project: async () => undefined,
      generate: async () => {
        throw new Error('not in this test');
      },
    });
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await rm(workspace, { recursive: true, force: true });
    await rm(deployRoot, { recursive: true, force: true });
  });

  it('builds a workspace directory, gates it, and puts it live under its name', async () => {
    const id = await deploy(await project('apps/calc-v1', 'v1'), {
      health: {
        expectedTools: ['version'],
        smoke: { tool: 'add', arguments: { token: 'sk-deploy-secret-1' } },
      },
    });
    const s = await ended(id);
    // The smoke call's credential-looking argument is sealed in the log, never in clear.
    const events = await system.store.readStream(`deployment-${id}`);
    expect(JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      'sk-deploy-secret-1',
    );
    expect(s.status, JSON.stringify(s)).toBe('succeeded');
    expect(s.status === 'succeeded' && s.revision).toBe(1);
    expect(await version()).toContain('v1');
  }, 120_000);

  it('a second version goes live while four clients call the server, and no call fails', async () => {
    const dir = await project('apps/calc-v2', 'v2');
    const failures: string[] = [];
    let calls = 0;
    let running = true;
    const callers = Array.from({ length: 4 }, async () => {
      while (running) {
        const r = await client(system)('/api/v1/servers/calc/tools/version', { body: {} });
        calls++;
        if (r.status !== 200 || r.json?.isError) failures.push(`${r.status} ${r.text}`);
      }
    });
    const s = await ended(await deploy(dir));
    running = false;
    await Promise.all(callers);
    expect(s.status, JSON.stringify(s)).toBe('succeeded');
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
    expect(await version()).toContain('v2');
  }, 120_000);

  it('one deployment per server at a time', async () => {
    const slow = await project('apps/calc-slow', 'slow', { build: 'sleep 30' });
    const first = await deploy(slow);
    await expect(deploy(slow)).rejects.toMatchObject({ code: 'DEPLOYMENT.IN_PROGRESS' });
    // Stopped: what it did is undone, the previous revision serves throughout.
    await useCases.stop(first, undefined, meta());
    const s = await ended(first);
    expect(s.status === 'rolled-back' && s.reason).toContain('stopped by alice');
    expect(await version()).toContain('v2');
  }, 120_000);

  for (const broken of [
    {
      what: 'a build that fails',
      step: 'build',
      make: () => project('apps/b1', 'b1', { build: 'exit 3' }),
      reason: /exit code 3/,
    },
    {
      what: 'a revision that crashes on start',
      step: 'start',
      make: () => project('apps/b2', 'b2', { crash: true }),
      reason: /did not stay up|exit|closed/i,
    },
    {
      what: 'a revision that fails the health gate',
      step: 'health',
      make: () => project('apps/b3', 'b3'),
      extra: { health: { expectedTools: ['multiply'] } },
      reason: /expected tools not listed: multiply/,
    },
    {
      what: 'a build that hangs past its timeout',
      step: 'build',
      make: () => project('apps/b4', 'b4', { build: 'sleep 60' }),
      extra: { timeouts: { buildMs: 2_000 } },
      reason: /timed out after 2000 ms/,
    },
  ] as const) {
    it(`${broken.what} rolls back, the previous revision serving throughout`, async () => {
      const id = await deploy(await broken.make(), 'extra' in broken ? broken.extra : {});
      const s = await ended(id);
      expect(s.status, JSON.stringify(s)).toBe('rolled-back');
      if (s.status !== 'rolled-back') return;
      expect(s.failedStep).toBe(broken.step);
      expect(s.reason).toMatch(broken.reason);
      expect(await version()).toContain('v2');
      // The build directory it made is gone.
      await expect(stat(join(deployRoot, 'calc', id))).rejects.toThrow();
    }, 120_000);
  }

  it('rolls back on demand to an earlier revision, reusing its build', async () => {
    const first = (await commands.state((await listSucceeded())[0]!)) as Extract<
      DeploymentState,
      { status: 'succeeded' }
    >;
    expect(first.revision).toBe(1);
    const s = await ended((await useCases.rollback(first.request.deploymentId, meta())).deploymentId);
    expect(s.status, JSON.stringify(s)).toBe('succeeded');
    expect(s.status === 'succeeded' && s.revision).toBe(3);
    expect(await version()).toContain('v1');
  }, 120_000);

  it('a deployment that asks to be queued waits for the one under way, then goes live', async () => {
    const first = await deploy(await project('apps/calc-q1', 'q1', { build: 'sleep 2' }));
    const second = await deploy(await project('apps/calc-q2', 'q2'), { queue: true });
    expect((await commands.state(second)).status).toBe('queued');
    const a = await ended(first);
    const b = await ended(second);
    expect(a.status, JSON.stringify(a)).toBe('succeeded');
    expect(b.status, JSON.stringify(b)).toBe('succeeded');
    expect(b.status === 'succeeded' && a.status === 'succeeded' && b.revision - a.revision).toBe(1);
    expect(await version()).toContain('q2');
  }, 120_000);

  it('installs an npm package at an exact version and serves its bin', async () => {
    const { version: v } = JSON.parse(
      await readFile(
        join(repoRoot, 'node_modules/@modelcontextprotocol/server-everything/package.json'),
        'utf8',
      ),
    ) as { version: string };
    const input = RequestDeploymentInput.parse({
      server: 'everything',
      source: { npm: '@modelcontextprotocol/server-everything', version: v },
      health: { expectedTools: ['echo'], smoke: { tool: 'echo', arguments: { message: 'gate' } } },
    });
    const s = await ended((await useCases.request(input, meta())).deploymentId, 240_000);
    expect(s.status, JSON.stringify(s)).toBe('succeeded');
    const r = await client(system)('/api/v1/servers/everything/tools/echo', { body: { message: 'hi' } });
    expect(r.status).toBe(200);
    expect(r.text).toContain('hi');
  }, 300_000);

  /** Deployments that succeeded, oldest first, from the log. */
  async function listSucceeded(): Promise<string[]> {
    const events = await system.store.readAll({
      after: 0n,
      maxCount: 10_000,
      filter: { categories: ['deployment'] },
    });
    return events
      .filter((e) => e.type === 'DeploymentSucceeded')
      .map((e) => (e.data as { deploymentId: string }).deploymentId);
  }
});
