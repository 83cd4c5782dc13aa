import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_ADMIN_ID } from '../../domains/access/index.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../access.ts';
import { adminFetch, freePort, until } from './program.ts';

const pkg = (p: string) =>
  fileURLToPath(new URL(`../../node_modules/@modelcontextprotocol/${p}`, import.meta.url));
const EVERYTHING = pkg('server-everything/dist/index.js');
const MEMORY = pkg('server-memory/dist/index.js');
const FILESYSTEM = pkg('server-filesystem/dist/index.js');

/**
 * Real MCP servers from npm, registered over REST and used through the gateway with the SDK
 * client: list, call, progress, resources, prompts; then unregistered.
 */
describe('MCP gateway with real servers from npm', () => {
  let system: System;
  let base: string;
  let work: string;
  let httpEverything: ChildProcess;
  const clients: Client[] = [];
  const ids: Record<string, string> = {};

  const post = async (path: string, body: unknown) => {
    const res = await adminFetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const connect = async (path: string) => {
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: adminAuth } }),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sy-mcp-'));
    await writeFile(join(work, 'hello.txt'), 'hello from the filesystem server\n');
    const httpPort = await freePort();
    httpEverything = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
      env: { PATH: process.env.PATH ?? '', PORT: String(httpPort) },
      stdio: 'ignore',
    });
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_LOG_LEVEL: 'error',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
    base = system.url!;
    const servers = [
      { name: 'everything', transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] } },
      {
        name: 'everything-http',
        transport: { type: 'streamable-http', url: `http://127.0.0.1:${httpPort}/mcp` },
      },
      {
        name: 'memory',
        transport: {
          type: 'stdio',
          command: process.execPath,
          args: [MEMORY],
          env: { MEMORY_FILE_PATH: join(work, 'memory.jsonl') },
        },
      },
      { name: 'files', transport: { type: 'stdio', command: process.execPath, args: [FILESYSTEM, work] } },
    ];
    for (const s of servers) {
      const r = await post('/api/v1/servers?wait=true', s);
      expect(r.status).toBe(202);
      ids[s.name] = r.body.id as string;
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await system?.stop();
    httpEverything?.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  });

  it('aggregates every server’s tools under collision-safe names, plus its own', {
    timeout: 90_000,
  }, async () => {
    const client = await connect('/mcp');
    const names = await until(async () => {
      const { tools } = await client.listTools();
      const n = tools.map((t) => t.name);
      const ready = [
        'everything__echo',
        'everything-http__echo',
        'memory__read_graph',
        'files__read_text_file',
      ].every((x) => n.includes(x));
      return ready ? n : undefined;
    }, 60_000);
    expect(names).toContain('switchyard__list-servers');
    expect(names.filter((n) => n.endsWith('__echo'))).toHaveLength(2);
  });

  it('calls tools through /mcp and records each call', { timeout: 60_000 }, async () => {
    const client = await connect('/mcp');
    const echo = await client.callTool({ name: 'everything__echo', arguments: { message: 'via gateway' } });
    expect(echo.content).toEqual([{ type: 'text', text: 'Echo: via gateway' }]);
    const overHttp = await client.callTool({
      name: 'everything-http__echo',
      arguments: { message: 'http upstream' },
    });
    expect(JSON.stringify(overHttp.content)).toContain('http upstream');

    await client.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'switchyard', entityType: 'project', observations: ['routes MCP'] }] },
    });
    const graph = await client.callTool({ name: 'memory__read_graph', arguments: {} });
    expect(JSON.stringify(graph)).toContain('routes MCP');

    const file = await client.callTool({
      name: 'files__read_text_file',
      arguments: { path: join(work, 'hello.txt') },
    });
    expect(JSON.stringify(file.content)).toContain('hello from the filesystem server');
    const outside = await client.callTool({
      name: 'files__read_text_file',
      arguments: { path: '/etc/passwd' },
    });
    expect(outside.isError).toBe(true);

    const log = await until(async () => {
      const res = await adminFetch(`${base}/api/v1/tool-calls?server=everything&limit=50`);
      const body = (await res.json()) as { items: Array<{ tool: string; status: string; actor: string }> };
      return body.items.some((c) => c.tool === 'echo' && c.status === 'succeeded') ? body.items : undefined;
    });
    // Recorded as the authenticated caller's.
    expect(log[0]).toMatchObject({ tool: 'echo', status: 'succeeded', actor: BOOTSTRAP_ADMIN_ID });
  });

  it('forwards progress notifications', { timeout: 60_000 }, async () => {
    const client = await connect('/mcp');
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress), timeout: 30_000 },
    );
    expect(result.isError).toBeFalsy();
    expect(progress).toEqual([1, 2, 3]);
  });

  it('serves resources and prompts with unambiguous names', { timeout: 60_000 }, async () => {
    const client = await connect('/mcp');
    const { resources } = await client.listResources();
    const mine = resources.filter((r) => r.uri.startsWith('switchyard://everything/'));
    expect(mine.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: mine[0]!.uri });
    expect(read.contents[0]?.uri).toBe(mine[0]!.uri);
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('everything__simple-prompt');
    const prompt = await client.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
  });

  it('serves one server with its names unchanged at /servers/<name>/mcp', { timeout: 60_000 }, async () => {
    const client = await connect('/servers/everything/mcp');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(tools.some((t) => t.name.includes('__'))).toBe(false);
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'direct name' } });
    expect(echo.content).toEqual([{ type: 'text', text: 'Echo: direct name' }]);

    // A server that offers tools only: its endpoint declares (and answers) tools only.
    const memory = await connect('/servers/memory/mcp');
    expect(memory.getServerCapabilities()?.prompts).toBeUndefined();
    expect((await memory.listTools()).tools.map((t) => t.name)).toContain('read_graph');
    await expect(memory.listPrompts()).rejects.toThrow();
  });

  it('calls a tool over REST and lists it in the OpenAPI document', { timeout: 30_000 }, async () => {
    const r = await post('/api/v1/servers/everything/tools/echo', { message: 'rest' });
    expect(r.status).toBe(200);
    expect(r.body.content).toEqual([{ type: 'text', text: 'Echo: rest' }]);
    const doc = (await (await adminFetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toContain('/api/v1/servers/everything/tools/echo');
    expect((await post('/api/v1/servers/everything/tools/nope', {})).status).toBe(404);
  });

  it('answers unknown tools with a JSON-RPC error and keeps serving', { timeout: 30_000 }, async () => {
    const client = await connect('/mcp');
    await expect(client.callTool({ name: 'everything__nope', arguments: {} })).rejects.toThrow(
      /unknown tool/,
    );
    await expect(client.callTool({ name: 'no-separator', arguments: {} })).rejects.toThrow(/unknown tool/);
    const ok = await client.callTool({ name: 'everything__echo', arguments: { message: 'still up' } });
    expect(ok.isError).toBeFalsy();
  });

  it('rediscovers on refresh, recording the saga’s steps and the catalog in the log', {
    timeout: 60_000,
  }, async () => {
    const r = await post(`/api/v1/servers/${ids.everything}/refresh`, {});
    expect(r.status).toBe(202);
    const steps = await until(async () => {
      const res = await adminFetch(`${base}/api/v1/events?stream=discovery-${ids.everything}&limit=100`);
      const body = (await res.json()) as { events: Array<{ type: string; data: { reason?: string } }> };
      const refresh = body.events.findIndex(
        (e) => e.type === 'DiscoveryRequested' && e.data.reason === 'refresh',
      );
      return refresh >= 0 && body.events.slice(refresh).some((e) => e.type === 'DiscoveryCompleted')
        ? body.events
        : undefined;
    });
    expect(steps[0]).toMatchObject({ type: 'DiscoveryRequested', data: { reason: 'registered' } });
    const catalog = await adminFetch(`${base}/api/v1/events?stream=catalog-${ids.everything}`);
    const events = ((await catalog.json()) as { events: Array<{ type: string }> }).events;
    // The same catalog again is not a change: one CapabilitiesDiscovered for both discoveries.
    expect(events.filter((e) => e.type === 'CapabilitiesDiscovered')).toHaveLength(1);
  });

  it('reports health, last check and latency, with transitions in the log', { timeout: 60_000 }, async () => {
    const server = await until(async () => {
      const s = (await (await adminFetch(`${base}/api/v1/servers/everything`)).json()) as {
        health: { status: string; latencyMs: number | null; lastCheckAt: string | null };
        stats: { calls: number };
      };
      return s.health.status === 'HEALTHY' ? s : undefined;
    });
    expect(server.health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(server.health.lastCheckAt).not.toBeNull();
    expect(server.stats.calls).toBeGreaterThan(0);
    const res = await adminFetch(`${base}/api/v1/events?stream=health-${ids.everything}`);
    const events = ((await res.json()) as { events: Array<{ type: string; data: { to: string } }> }).events;
    expect(events.at(-1)).toMatchObject({ type: 'ServerHealthChanged', data: { to: 'HEALTHY' } });
  });

  it('many client sessions share one upstream process and leave no session behind', {
    timeout: 90_000,
  }, async () => {
    const sessions = async () => {
      const metrics = await (await adminFetch(`${base}/metrics`)).text();
      return Number(/^switchyard_mcp_sessions (\d+)/m.exec(metrics)?.[1]);
    };
    const before = await sessions();
    const targets = () => system.upstreams!.status(ids.everything!)[0]!.instances.map((i) => i.target);
    const processes = targets();
    for (let i = 0; i < 20; i++) {
      const client = new Client({ name: `burst-${i}`, version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: adminAuth },
      });
      await client.connect(transport);
      await client.callTool({ name: 'everything__echo', arguments: { message: `burst ${i}` } });
      await transport.terminateSession();
      await client.close();
    }
    expect(await sessions()).toBe(before);
    expect(targets()).toEqual(processes);
  });

  it('drops a removed server from the lists and stops its process', { timeout: 60_000 }, async () => {
    const res = await adminFetch(`${base}/api/v1/servers/${ids.memory}?wait=true`, { method: 'DELETE' });
    expect(res.status).toBe(202);
    const client = await connect('/mcp');
    await until(async () => {
      const { tools } = await client.listTools();
      return tools.some((t) => t.name.startsWith('memory__')) ? undefined : true;
    });
    await until(async () => (system.upstreams!.status(ids.memory!).length === 0 ? true : undefined));
  });
});
