import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { everythingEntry as EVERYTHING, fixturePath, tsxLoader } from '../runners.ts';
import { client, registerStdioServer, startMemorySystem } from '../systems.ts';
import { until } from './program.ts';

/**
 * Toolsets: a named set of tools from several servers, served on its own endpoint
 * (`/toolsets/<name>/mcp`) with nothing else — a client loads only what it needs. Defined and
 * removed over REST as events; a tenant's toolsets are its own.
 */
describe('toolsets', () => {
  let system: System;
  let admin: ReturnType<typeof client>;
  const sessions: Client[] = [];
  let openSession: Client | undefined;

  const session = async (path: string, auth: Record<string, string> = adminAuth) => {
    const c = new Client({ name: 'toolsets', version: '1.0.0' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}${path}`), { requestInit: { headers: auth } }),
    );
    sessions.push(c);
    return c;
  };

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    admin = client(system);
    await registerStdioServer(system, 'everything', [EVERYTHING], { tool: 'echo', args: { message: 'x' } });
    await registerStdioServer(system, 'errors', ['--import', tsxLoader, fixturePath('errors')], {
      tool: 'echo',
      args: {},
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.close()));
    await system?.stop();
  });

  it('serves exactly its tools, by the endpoint’s names, and calls them through the audit', async () => {
    const tools = [
      { server: 'everything', tool: 'echo' },
      { server: 'errors', tool: 'echo' },
      { server: 'everything', tool: 'get-sum' },
    ];
    const put = await admin('/api/v1/toolsets/basics?wait=true', {
      method: 'PUT',
      body: { description: 'what a small agent needs', tools },
    });
    expect(put.status, put.text).toBe(202);
    const again = await admin('/api/v1/toolsets/basics?wait=true', {
      method: 'PUT',
      body: { description: 'what a small agent needs', tools },
    });
    expect((again.json as { position: string | null }).position).toBeNull(); // the same definition appends nothing
    const got = await admin('/api/v1/toolsets/basics');
    expect(got.json).toMatchObject({ name: 'basics', tools, description: 'what a small agent needs' });
    expect(((await admin('/api/v1/toolsets')).json as { toolsets: unknown[] }).toolsets).toHaveLength(1);

    const c = await session('/toolsets/basics/mcp?prefix=collisions');
    const names = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['errors__echo', 'everything__echo', 'get-sum']);
    const sum = await c.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(sum.content)).toContain('5');
    expect((await c.callTool({ name: 'errors__echo', arguments: {} })).content).toEqual([
      { type: 'text', text: 'ok' },
    ]);
    // Nothing else: not another tool of its servers, not the platform's, no resources or prompts.
    await expect(c.callTool({ name: 'everything__get-tiny-image', arguments: {} })).rejects.toThrow(
      /unknown tool/,
    );
    await expect(c.callTool({ name: 'switchyard__list-servers', arguments: {} })).rejects.toThrow(
      /unknown tool/,
    );
    expect(c.getServerCapabilities()?.resources).toBeUndefined();
    const log = await admin('/api/v1/tool-calls?server=everything&limit=5');
    expect((log.json as { items: Array<{ tool: string }> }).items[0]?.tool).toBe('get-sum');

    // Defined again: the open session is told, and serves the new set.
    let changed = false;
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed = true;
    });
    const redefined = await admin('/api/v1/toolsets/basics?wait=true', {
      method: 'PUT',
      body: { description: 'what a small agent needs', tools: [{ server: 'everything', tool: 'echo' }] },
    });
    expect(redefined.status).toBe(202);
    await until(async () => (changed ? true : undefined), 15_000);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    await expect(c.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).rejects.toThrow(/unknown tool/);
    await admin('/api/v1/toolsets/basics?wait=true', {
      method: 'PUT',
      body: { description: 'what a small agent needs', tools },
    });
    openSession = c;
  });

  it("is its tenant's own, and gone once removed", async () => {
    const t = await admin('/api/v1/tenants', { body: { id: 'team-z', name: 'Team Z' } });
    expect(t.status, t.text).toBeLessThan(300);
    const p = await admin('/api/v1/principals', {
      body: { name: 'z', roles: ['manager'], tenant: 'team-z' },
    });
    const key = (
      await admin('/api/v1/api-keys', { body: { name: 'z', principalId: (p.json as { id: string }).id } })
    ).json as { key: string };
    const other = client(system, key.key);
    expect((await other('/api/v1/toolsets/basics')).status).toBe(404);
    expect(((await other('/api/v1/toolsets')).json as { toolsets: unknown[] }).toolsets).toEqual([]);
    const foreign = await fetch(`${system.url}/toolsets/basics/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key.key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'z', version: '1' } },
      }),
    });
    expect(foreign.status).toBe(404);

    expect((await admin('/api/v1/toolsets/basics?wait=true', { method: 'DELETE' })).status).toBe(202);
    expect((await admin('/api/v1/toolsets/basics')).status).toBe(404);
    expect((await admin('/api/v1/toolsets/basics', { method: 'DELETE' })).status).toBe(404);
    await expect(session('/toolsets/basics/mcp')).rejects.toThrow(/no toolset with that name/);
    // A session opened before the removal: the toolset is gone, and it says so.
    await expect(openSession!.listTools()).rejects.toThrow(/no toolset with that name/);
  });
});
