import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../../test/access.ts';
import { hasNats, hasPostgres } from '../../test/services.ts';
import { startGatewayPair, startMemorySystem } from '../../test/systems.ts';

const SDK = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/sdk/dist/esm/server/', import.meta.url),
);

/** A stdio MCP server with one tool, `hello`, answering its version; no npm install needed. */
const serverSource = (version: string) => `
import { McpServer } from ${JSON.stringify(path.join(SDK, 'mcp.js'))};
import { StdioServerTransport } from ${JSON.stringify(path.join(SDK, 'stdio.js'))};
const server = new McpServer({ name: 'tiny', version: ${JSON.stringify(version)} });
server.registerTool('hello', { description: 'says which version answers' }, async () => ({
  content: [{ type: 'text', text: 'hello from ${version}' }],
}));
await server.connect(new StdioServerTransport());
`;

interface Line {
  type: string;
  [k: string]: unknown;
}

/**
 * /api/v1/deployments on a whole in-memory system: the deployment saga deploys a workspace directory
 * holding a tiny stdio MCP server; the routes record, follow, list, stop and roll back.
 */
describe('REST /api/v1/deployments', () => {
  let system: System;
  let tmp: string;
  let workspace: string;
  let deployDir: string;
  const inject = (
    opts: InjectOptions,
    auth: Record<string, string> = adminAuth,
  ): Promise<LightMyRequestResponse> =>
    system.app!.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  const get = (url: string, auth?: Record<string, string>) => inject({ method: 'GET', url }, auth);
  const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
    inject({ method: 'POST', url, headers, ...(payload && { payload }) });
  const lines = (body: string) =>
    body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);

  async function writeVersion(dir: string, version: string) {
    await mkdir(path.join(workspace, dir), { recursive: true });
    await writeFile(
      path.join(workspace, dir, 'package.json'),
      JSON.stringify({ name: 'tiny', version, type: 'module', bin: 'server.mjs' }),
    );
    await writeFile(path.join(workspace, dir, 'server.mjs'), serverSource(version));
  }

  /** Polls the read model until the deployment has ended; returns it. */
  async function ended(id: string, timeoutMs = 90_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await get(`/api/v1/deployments/${id}`);
      if (r.statusCode === 200) {
        const d = r.json<Record<string, unknown>>();
        if (d.status === 'succeeded' || d.status === 'rolled-back') return d;
      }
      if (Date.now() > deadline) throw new Error(`deployment ${id} did not end: ${r.body}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const deploy = (directory: string, extra: object = {}) => ({
    server: 'tiny',
    source: { directory },
    health: { expectedTools: ['hello'], smoke: { tool: 'hello', arguments: {} } },
    ...extra,
  });

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-deployments-routes-')));
    workspace = path.join(tmp, 'workspace');
    deployDir = path.join(tmp, 'deployments');
    await writeVersion('apps/tiny-v1', '1.0.0');
    await writeVersion('apps/tiny-v2', '2.0.0');
    system = await startMemorySystem({
      SWITCHYARD_WORKSPACE: workspace,
      SWITCHYARD_DEPLOY_DIR: deployDir,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a request the edge refuses answers 400 and appends nothing', async () => {
    const before = await system.store.headPosition();
    const bad = [
      {},
      { server: 'Tiny!', source: { directory: 'apps/tiny-v1' } },
      { server: 'tiny', source: { directory: '../outside' } },
      { server: 'tiny', source: { directory: 'apps/tiny-v1', npm: 'x' } },
      { server: 'tiny', source: { npm: 'left-pad', version: '^1.0.0' } },
      { ...deploy('apps/tiny-v1'), replicas: 0 },
      { ...deploy('apps/tiny-v1'), unknown: true },
    ];
    for (const body of bad) {
      const r = await post('/api/v1/deployments', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
    // Valid in shape, but no such project in the tenant: refused before anything is recorded.
    const noProject = await post('/api/v1/deployments', {
      server: 'tiny',
      source: { project: '00000000-0000-4000-8000-000000000000' },
    });
    expect(noProject.statusCode).toBe(400);
    expect(noProject.json()).toMatchObject({ code: 'DEPLOYMENT.INVALID_SOURCE' });
    expect(await system.store.headPosition()).toBe(before);
  });

  it('unknown deployments answer 404 for read, stop and rollback', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    for (const r of [
      await get(`/api/v1/deployments/${id}`),
      await inject({ method: 'DELETE', url: `/api/v1/deployments/${id}` }),
      await post(`/api/v1/deployments/${id}/rollback`),
    ]) {
      expect(r.statusCode, r.body).toBe(404);
      expect(r.json()).toMatchObject({ code: 'DEPLOYMENT.NOT_FOUND' });
    }
    expect((await get('/api/v1/deployments/not-a-uuid')).statusCode).toBe(400);
  });

  let first = '';

  it('202 with the deployment id; a second deployment of the same server meanwhile is 409; it goes live', async () => {
    const r = await post('/api/v1/deployments', deploy('apps/tiny-v1'), { 'idempotency-key': 'v1' });
    expect(r.statusCode, r.body).toBe(202);
    const body = r.json<{ id: string; stream: string; revision: string }>();
    first = body.id;
    expect(body.stream).toBe(`deployment-${first}`);
    expect(r.headers.location).toBe(`/api/v1/deployments/${first}`);
    // The same Idempotency-Key: the same deployment, nothing new.
    const again = await post('/api/v1/deployments', deploy('apps/tiny-v1'), { 'idempotency-key': 'v1' });
    expect(again.json()).toMatchObject({ id: first, duplicate: true });

    const busy = await post('/api/v1/deployments', deploy('apps/tiny-v2'));
    expect(busy.statusCode, busy.body).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'DEPLOYMENT.IN_PROGRESS' });

    const d = await ended(first);
    expect(d, JSON.stringify(d)).toMatchObject({ status: 'succeeded', server: 'tiny', revision: 1 });
    expect((d.steps as Array<{ step: string; outcome: string }>).map((s) => [s.step, s.outcome])).toEqual([
      ['build', 'completed'],
      ['start', 'completed'],
      ['health', 'completed'],
      ['switch', 'completed'],
      ['drain', 'completed'],
    ]);
    const listed = await get('/api/v1/deployments?server=tiny&status=succeeded');
    expect(listed.json<{ items: Array<{ id: string }> }>().items.map((i) => i.id)).toEqual([first]);
    const called = await post('/api/v1/servers/tiny/tools/hello', {});
    expect(called.statusCode, called.body).toBe(200);
    expect(called.body).toContain('hello from 1.0.0');
  }, 120_000);

  it('a finished deployment cannot be stopped: 409 DEPLOYMENT.FINISHED, nothing appended', async () => {
    const before = await system.store.headPosition();
    const r = await inject({ method: 'DELETE', url: `/api/v1/deployments/${first}` });
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json()).toMatchObject({ code: 'DEPLOYMENT.FINISHED' });
    expect(await system.store.headPosition()).toBe(before);
  });

  it('Accept: application/x-ndjson follows the deployment event by event until it ends', async () => {
    const r = await post('/api/v1/deployments', deploy('apps/tiny-v2'), { accept: 'application/x-ndjson' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/x-ndjson');
    const got = lines(r.body);
    expect(got[0]).toMatchObject({ type: 'accepted', stream: `deployment-${got[0]!.id}` });
    const kinds = got
      .filter((l) => l.type !== 'heartbeat')
      .map((l) => (l.step ? `${l.type}:${l.step}` : l.type));
    expect(kinds).toEqual([
      'accepted',
      'requested',
      'step-started:build',
      'step-completed:build',
      'step-started:start',
      'step-completed:start',
      'step-started:health',
      'step-completed:health',
      'step-started:switch',
      'step-completed:switch',
      'step-started:drain',
      'step-completed:drain',
      'succeeded',
    ]);
    expect(got.at(-1)).toMatchObject({ type: 'succeeded', server: 'tiny', revision: 2 });
    // Where the build lives on the host, and how it runs, are not the caller's business.
    expect(r.body).not.toContain(deployDir);
    const called = await post('/api/v1/servers/tiny/tools/hello', {});
    expect(called.body).toContain('hello from 2.0.0');
  }, 120_000);

  it('rollback brings back the revision the first deployment put live, as a new deployment', async () => {
    const r = await post(`/api/v1/deployments/${first}/rollback`);
    expect(r.statusCode, r.body).toBe(202);
    const id = r.json<{ id: string }>().id;
    expect(id).not.toBe(first);
    const d = await ended(id);
    expect(d, JSON.stringify(d)).toMatchObject({
      status: 'succeeded',
      revision: 3,
      source: { kind: 'revision', deploymentId: first, revision: 1 },
    });
    const called = await post('/api/v1/servers/tiny/tools/hello', {});
    expect(called.body).toContain('hello from 1.0.0');
  }, 120_000);

  it('DELETE stops a running deployment: 202, then it is undone and the previous revision keeps serving', async () => {
    const r = await post('/api/v1/deployments', deploy('apps/tiny-v2'));
    expect(r.statusCode).toBe(202);
    const id = r.json<{ id: string }>().id;
    const stop = await inject({
      method: 'DELETE',
      url: `/api/v1/deployments/${id}`,
      payload: { reason: 'changed my mind' },
    });
    expect(stop.statusCode, stop.body).toBe(202);
    const d = await ended(id);
    expect(d).toMatchObject({ status: 'rolled-back', stopReason: 'changed my mind', revision: null });
    const called = await post('/api/v1/servers/tiny/tools/hello', {});
    expect(called.body).toContain('hello from 1.0.0');
  }, 120_000);

  it('the MCP tool deploy-server reports each step as progress and answers the outcome; without a progressToken it answers at once', async () => {
    const mcp = new Client({ name: 'deployer', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    try {
      const messages: string[] = [];
      const r = await mcp.callTool(
        { name: 'switchyard__deploy-server', arguments: deploy('apps/tiny-v2') },
        undefined,
        { onprogress: (p) => messages.push(p.message ?? ''), timeout: 120_000 },
      );
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ status: 'succeeded', server: 'tiny', revision: 4 });
      expect(messages[0]).toMatch(/^deployment .* of tiny requested$/);
      expect(messages).toContain('health: started');
      expect(messages.at(-1)).toMatch(/^succeeded: tiny serves revision 4/);

      const quick = await mcp.callTool({
        name: 'switchyard__deploy-server',
        arguments: deploy('apps/tiny-v1'),
      });
      expect(quick.structuredContent).toMatchObject({ status: 'running' });
      const id = (quick.structuredContent as { deploymentId: string }).deploymentId;
      expect(await ended(id)).toMatchObject({ status: 'succeeded', revision: 5 });

      const refused = await mcp.callTool({
        name: 'switchyard__deploy-server',
        arguments: { server: 'tiny', source: { directory: '../etc' } },
      });
      expect(refused.isError).toBe(true);
    } finally {
      await mcp.close();
    }
  }, 180_000);

  it("another tenant's manager sees none of it", async () => {
    const ok = async (url: string, body: object) => {
      const r = await post(url, body);
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json<Record<string, string>>();
    };
    await ok('/api/v1/tenants', { id: 'team-b', name: 'Team B' });
    const p = await ok('/api/v1/principals', { name: 'b-manager', roles: ['manager'], tenant: 'team-b' });
    const { key } = await ok('/api/v1/api-keys', { name: 'b', principalId: p.id! });
    const other = { authorization: `Bearer ${key}` };
    expect((await get(`/api/v1/deployments/${first}`, other)).statusCode).toBe(404);
    expect((await get('/api/v1/deployments', other)).json<{ items: unknown[] }>().items).toEqual([]);
    const rollback = await inject({ method: 'POST', url: `/api/v1/deployments/${first}/rollback` }, other);
    expect(rollback.statusCode).toBe(404);
  });
});

/**
 * Distributed: a gateway-only process records the request in the shared store; the saga runs on the
 * other process (worker and runner roles), and the gateway follows the deployment's stream from the
 * store — no bus command on the way.
 */
describe.skipIf(!hasPostgres() || !hasNats())('REST /api/v1/deployments, distributed', () => {
  let pair: Awaited<ReturnType<typeof startGatewayPair>>;
  let tmp: string;

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-deployments-pair-')));
    const workspace = path.join(tmp, 'workspace');
    await mkdir(path.join(workspace, 'apps/tiny'), { recursive: true });
    await writeFile(
      path.join(workspace, 'apps/tiny/package.json'),
      JSON.stringify({ name: 'tiny', version: '1.0.0', type: 'module', bin: 'server.mjs' }),
    );
    await writeFile(path.join(workspace, 'apps/tiny/server.mjs'), serverSource('1.0.0'));
    pair = await startGatewayPair({
      SWITCHYARD_WORKSPACE: workspace,
      SWITCHYARD_DEPLOY_DIR: path.join(tmp, 'deployments'),
    });
  }, 180_000);
  afterAll(async () => {
    await pair?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a gateway-only process takes the request and streams it to the end; the other runs it', async () => {
    const r = await pair.b.app!.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: { ...adminAuth, accept: 'application/x-ndjson' },
      payload: { server: 'tiny', source: { directory: 'apps/tiny' }, health: { expectedTools: ['hello'] } },
    });
    expect(r.statusCode).toBe(200);
    const last = JSON.parse(r.body.trim().split('\n').at(-1)!) as Line;
    expect(last, r.body).toMatchObject({ type: 'succeeded', server: 'tiny', revision: 1 });
    const called = await pair.b.app!.inject({
      method: 'POST',
      url: '/api/v1/servers/tiny/tools/hello',
      headers: adminAuth,
      payload: {},
    });
    expect(called.body).toContain('hello from 1.0.0');
  }, 180_000);
});
