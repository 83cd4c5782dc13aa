import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth } from '../access.ts';
import { adminFetch, cleanEnv, freePort, type Program, startProgram, until, waitForHttp } from './program.ts';

interface Deployment {
  id: string;
  status: 'running' | 'compensating' | 'succeeded' | 'rolled-back';
  revision: number | null;
  failedStep: string | null;
  reason: string | null;
}

/**
 * Deployments as a user lives them, against the real program started as the README says: the
 * built-in MCP server template generated and deployed as `calc`, its tool called through /mcp;
 * a second version while four MCP clients call it, no call failing; four broken versions rolled
 * back; then the program SIGKILLed while a deployment builds — after the restart the saga
 * resumes from its stream, undoes the interrupted deployment, and the first revision serves
 * throughout.
 */
describe('deployments end to end', () => {
  let dataDir: string;
  let workspace: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;

  const post = (path: string, body: unknown) =>
    adminFetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const deployment = async (id: string) =>
    (await (await adminFetch(`${base}/api/v1/deployments/${id}`)).json()) as Deployment;
  const ended = (id: string, ms = 240_000) =>
    until(async () => {
      const d = await deployment(id);
      return d.status === 'succeeded' || d.status === 'rolled-back' ? d : undefined;
    }, ms);

  async function add(a: number, b: number): Promise<string> {
    const client = new Client({ name: 'deployments-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: adminAuth } }),
    );
    try {
      const r = (await client.callTool({ name: 'calc__add', arguments: { a, b } })) as CallToolResult;
      return JSON.stringify(r);
    } finally {
      await client.close();
    }
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sy-deploy-data-'));
    workspace = await mkdtemp(join(tmpdir(), 'sy-deploy-ws-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = cleanEnv({
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_WORKSPACE: workspace,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_LOG_LEVEL: 'warn',
    });
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 90_000);
  }, 120_000);

  afterAll(async () => {
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(workspace, { recursive: true, force: true });
  });

  it('generates mcp-server-ts, deploys it as calc and serves its tools through /mcp', {
    timeout: 360_000,
  }, async () => {
    // The built-in templates are synced in the background after start.
    const accepted = await until(async () => {
      const r = await post('/api/v1/deployments', {
        server: 'calc',
        source: { template: 'mcp-server-ts', variables: { projectName: 'calc' } },
        health: { expectedTools: ['add'], smoke: { tool: 'add', arguments: { a: 1, b: 2 } } },
      });
      if (r.status === 202) return (await r.json()) as { id: string };
      if (r.status >= 500) throw new Error(`${r.status} ${await r.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      return undefined;
    }, 60_000);
    const d = await ended(accepted.id);
    expect(d.status, JSON.stringify(d)).toBe('succeeded');
    expect(d.revision).toBe(1);
    const sum = await until(async () => {
      const text = await add(40, 2).catch(() => undefined);
      return text?.includes('42') ? text : undefined;
    }, 30_000);
    expect(sum).toContain('42');
  });

  it('a second version goes live while four MCP clients call calc, and no call fails', {
    timeout: 360_000,
  }, async () => {
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new Client({ name: 'deployments-e2e-caller', version: '1.0.0' });
        await c.connect(
          new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: adminAuth } }),
        );
        return c;
      }),
    );
    const failures: string[] = [];
    let calls = 0;
    let calling = true;
    const loops = clients.map(async (c, i) => {
      while (calling) {
        try {
          const r = (await c.callTool({ name: 'calc__add', arguments: { a: i, b: 1 } })) as CallToolResult;
          if (r.isError) failures.push(JSON.stringify(r.content));
        } catch (e) {
          failures.push((e as Error).message);
        }
        calls++;
      }
    });
    const r = await post('/api/v1/deployments', {
      server: 'calc',
      source: {
        template: 'mcp-server-ts',
        variables: { projectName: 'calc', description: 'calc, second version' },
        destination: 'apps/calc-v2',
      },
      health: { expectedTools: ['add'] },
    });
    expect(r.status).toBe(202);
    const d = await ended(((await r.json()) as { id: string }).id);
    calling = false;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.close()));
    expect(d.status, JSON.stringify(d)).toBe('succeeded');
    expect(d.revision).toBe(2);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(20);
  });

  it('broken versions roll back with the reason recorded, the live revision serving throughout', {
    timeout: 300_000,
  }, async () => {
    const app = async (name: string, pkg: Record<string, unknown>, server = '') => {
      const dir = join(workspace, 'apps', name);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', bin: 'server.js', ...pkg }),
      );
      await writeFile(join(dir, 'server.js'), server);
      return `apps/${name}`;
    };
    const live = (
      (await (await adminFetch(`${base}/api/v1/deployments?server=calc&status=succeeded`)).json()) as {
        items: Array<{ source: { kind: string; projectId?: string } }>;
      }
    ).items;
    const project = live.find((x) => x.source.projectId)?.source.projectId;
    expect(project).toBeDefined();
    const cases = [
      {
        body: { source: { directory: await app('fails', { scripts: { build: 'exit 3' } }) } },
        step: 'build',
        reason: /exit code 3/,
      },
      {
        body: { source: { directory: await app('crashes', {}, "throw new Error('cannot start');") } },
        step: 'start',
        reason: /did not stay up|closed|exit/i,
      },
      {
        body: { source: { project }, health: { expectedTools: ['multiply'] } },
        step: 'health',
        reason: /multiply/,
      },
      {
        body: {
          source: { directory: await app('hangs', { scripts: { build: 'sleep 60' } }) },
          timeouts: { buildMs: 2_000 },
        },
        step: 'build',
        reason: /timed out after 2000 ms/,
      },
    ];
    for (const c of cases) {
      const r = await post('/api/v1/deployments', { server: 'calc', ...c.body });
      expect(r.status).toBe(202);
      const d = await ended(((await r.json()) as { id: string }).id);
      expect(d.status, JSON.stringify(d)).toBe('rolled-back');
      expect(d.failedStep).toBe(c.step);
      expect(d.reason).toMatch(c.reason);
      expect(await add(20, 22)).toContain('42');
    }
  });

  it('a worker SIGKILLed mid-deployment resumes from the stream after restart and leaves the live revision serving', {
    timeout: 300_000,
  }, async () => {
    const dir = join(workspace, 'apps/slow');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'slow', version: '1.0.0', bin: 'server.js', scripts: { build: 'sleep 30' } }),
    );
    await writeFile(join(dir, 'server.js'), '');
    const r = await post('/api/v1/deployments', { server: 'calc', source: { directory: 'apps/slow' } });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: string };
    await until(async () => {
      const steps = ((await deployment(id)) as unknown as { currentStep: string | null }).currentStep;
      return steps === 'build' ? true : undefined;
    }, 30_000);

    await program!.kill();
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 90_000);

    const d = await ended(id, 120_000);
    expect(d.status).toBe('rolled-back');
    expect(d.failedStep).toBe('build');
    expect(d.reason).toContain('interrupted');
    // Never none serving: the revision that was live before is live after.
    expect(
      await until(async () => (await add(2, 3).catch(() => '')).includes('5') || undefined, 60_000),
    ).toBe(true);
    // And the server name is free for the next deployment.
    const again = await post('/api/v1/deployments', {
      server: 'calc',
      source: { directory: 'apps/slow' },
      timeouts: { buildMs: 1000 },
    });
    expect(again.status).toBe(202);
    const next = await ended(((await again.json()) as { id: string }).id, 60_000);
    expect(next.status).toBe('rolled-back');
    expect(next.reason).toContain('timed out');
  });
});
