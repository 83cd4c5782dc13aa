import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { everythingEntry as EVERYTHING, fixturePath, tsxLoader } from '../runners.ts';
import { startMemorySystem } from '../systems.ts';
import { adminFetch } from './program.ts';

/**
 * The aggregate endpoint's prefix modes, with three servers that share a tool name (`echo`):
 * `always` qualifies every name; `collisions` leaves the unique ones as their server names them;
 * `never` leaves all of them plain, the first server in name order keeping `echo`. Calls route by
 * the name the endpoint gave, and the log records the server's own names.
 */
describe('/mcp prefix modes', () => {
  let system: System;
  const clients: Client[] = [];

  const connect = async (path: string) => {
    const client = new Client({ name: 'prefix', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}${path}`), {
        requestInit: { headers: adminAuth },
      }),
    );
    clients.push(client);
    return client;
  };
  const toolNames = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
  const text = (r: Awaited<ReturnType<Client['callTool']>>) =>
    (r.content as Array<{ type: string; text?: string }>)[0]?.text;

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_LOG_LEVEL: 'error', SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const upstreams = [
      ['everything', process.execPath, [EVERYTHING]],
      ['hang', process.execPath, ['--import', tsxLoader, fixturePath('hang')]],
      ['errors', process.execPath, ['--import', tsxLoader, fixturePath('errors')]],
    ] as const;
    for (const [name, command, args] of upstreams) {
      const res = await adminFetch(`${system.url}/api/v1/servers?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, transport: { type: 'stdio', command, args } }),
      });
      expect(res.status).toBe(202);
    }
    const probe = await connect('/mcp');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const names = await toolNames(probe);
      if (['everything__echo', 'hang__slow', 'errors__refuse'].every((n) => names.includes(n))) break;
      if (Date.now() > deadline) throw new Error(`not discovered: ${names.join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await system?.stop();
  });

  it('always (the default) qualifies every name', async () => {
    const names = await toolNames(await connect('/mcp'));
    expect(names).toEqual(
      expect.arrayContaining(['everything__echo', 'hang__echo', 'errors__echo', 'hang__slow']),
    );
    expect(names.filter((n) => !n.includes('__'))).toEqual([]);
    expect(await toolNames(await connect('/mcp?prefix=always'))).toEqual(names);
  });

  it('collisions: unique names plain, shared ones qualified; calls route by either', async () => {
    const client = await connect('/mcp?prefix=collisions');
    const names = await toolNames(client);
    expect(names).toEqual(
      expect.arrayContaining(['slow', 'hang', 'refuse', 'everything__echo', 'hang__echo', 'errors__echo']),
    );
    expect(names).not.toContain('echo');
    expect(names).toContain('switchyard__list-servers');
    expect(text(await client.callTool({ name: 'slow', arguments: { ms: 1 } }))).toMatch(/^done after/);
    // search-tools answers the names of the endpoint that asks.
    const found = await client.callTool({ name: 'switchyard__search-tools', arguments: { query: 'echo' } });
    const matches = (found.structuredContent as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(matches.sort()).toEqual(['errors__echo', 'everything__echo', 'hang__echo']);
    expect(text(await client.callTool({ name: 'errors__echo', arguments: {} }))).toBe('ok');
    const error = await client.callTool({ name: 'echo', arguments: {} }).catch((e: McpError) => e);
    expect(error).toMatchObject({ code: -32602, data: { code: 'MCP.UNKNOWN_TOOL', tool: 'echo' } });
    const log = await adminFetch(`${system.url}/api/v1/tool-calls?server=hang&limit=10`);
    const items = ((await log.json()) as { items: Array<{ tool: string; serverName: string }> }).items;
    expect(items.some((c) => c.tool === 'slow')).toBe(true);
  });

  it('never: every name plain; the first server in name order keeps a shared one', async () => {
    const client = await connect('/mcp?prefix=never');
    const names = await toolNames(client);
    expect(names.filter((n) => n === 'echo')).toHaveLength(1);
    expect(names).toEqual(expect.arrayContaining(['slow', 'refuse', 'echo']));
    expect(names.filter((n) => n.includes('__') && !n.startsWith('switchyard__'))).toEqual([]);
    // errors < everything < hang: the errors fixture's echo, which answers "ok" whatever it is sent.
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'x' } }))).toBe('ok');
  });

  it('collisions: resources and templates keep their own URIs where unique, and read through them', async () => {
    const own = await connect('/servers/everything/mcp');
    const client = await connect('/mcp?prefix=collisions');
    const [first] = (await own.listResources()).resources;
    expect(first).toBeDefined();
    const listed = (await client.listResources()).resources.map((r) => r.uri);
    expect(listed).toContain(first!.uri);
    expect(await client.readResource({ uri: first!.uri })).toEqual(
      await own.readResource({ uri: first!.uri }),
    );
    const [template] = (await own.listResourceTemplates()).resourceTemplates;
    expect(template).toBeDefined();
    expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toContain(
      template!.uriTemplate,
    );
    const uri = template!.uriTemplate.replace(/\{[^}]*\}/g, '1');
    // A dynamic resource: its text says when it was made, to the second.
    const timeless = (r: unknown) => JSON.stringify(r).replace(/\d{1,2}:\d{2}:\d{2}( ?[AP]M)?/g, 'TIME');
    expect(timeless(await client.readResource({ uri }))).toBe(timeless(await own.readResource({ uri })));
  });

  it('refuses a prefix mode it does not know', async () => {
    const res = await fetch(`${system.url}/mcp?prefix=sometimes`, {
      method: 'POST',
      headers: {
        ...adminAuth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'MCP.INVALID_PREFIX_MODE' });
  });
});
