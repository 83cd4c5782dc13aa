import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { everythingEntry as EVERYTHING } from '../runners.ts';
import { client, registerStdioServer, startMemorySystem } from '../systems.ts';
import { until } from './program.ts';

/**
 * Tool overrides (settings.tools): a server's tool hidden, renamed or re-described, as an ordinary
 * server update. Served names change on every endpoint; authorization and the audit log keep the
 * upstream's own name, so a rename never slips past a policy written for the tool.
 */
describe('tool overrides', () => {
  let system: System;
  let admin: ReturnType<typeof client>;
  const sessions: Client[] = [];

  const session = async (path: string, auth: Record<string, string> = adminAuth) => {
    const c = new Client({ name: 'overrides', version: '1.0.0' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}${path}`), { requestInit: { headers: auth } }),
    );
    sessions.push(c);
    return c;
  };
  const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name);

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    admin = client(system);
    await registerStdioServer(system, 'everything', [EVERYTHING], { tool: 'echo', args: { message: 'x' } });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.close()));
    await system?.stop();
  });

  it('hides, renames and re-describes tools on every endpoint; calls reach the upstream tool and are audited under its name', async () => {
    const patch = await admin('/api/v1/servers/everything?wait=true', {
      method: 'PATCH',
      body: {
        settings: {
          tools: {
            echo: { name: 'say', description: 'Says your message back' },
            'get-sum': { hidden: true },
            // Wants a name another tool keeps: waits, the tool keeps its own.
            'get-tiny-image': { name: 'say' },
          },
        },
      },
    });
    expect(patch.status, patch.text).toBe(400);
    expect(patch.text).toContain('cannot both be served as');
    const ok = await admin('/api/v1/servers/everything?wait=true', {
      method: 'PATCH',
      body: {
        settings: {
          tools: {
            echo: { name: 'say', description: 'Says your message back' },
            'get-sum': { hidden: true },
          },
        },
      },
    });
    expect(ok.status, ok.text).toBe(202);

    const own = await session('/servers/everything/mcp');
    await until(async () => ((await names(own)).includes('say') ? true : undefined), 15_000);
    const { tools } = await own.listTools();
    expect(tools.find((t) => t.name === 'say')?.description).toBe('Says your message back');
    expect(tools.map((t) => t.name)).not.toContain('echo');
    expect(tools.map((t) => t.name)).not.toContain('get-sum');
    expect((await own.callTool({ name: 'say', arguments: { message: 'hi' } })).content).toEqual([
      { type: 'text', text: 'Echo: hi' },
    ]);
    for (const gone of ['echo', 'get-sum']) {
      const e = await own.callTool({ name: gone, arguments: {} }).catch((err: McpError) => err);
      expect(e, gone).toMatchObject({ code: -32602, data: { code: 'MCP.UNKNOWN_TOOL' } });
    }
    const aggregate = await session('/mcp');
    expect(await names(aggregate)).toContain('everything__say');
    expect((await admin('/api/v1/servers/everything/tools/say', { body: { message: 'rest' } })).status).toBe(
      200,
    );

    const log = await admin('/api/v1/tool-calls?server=everything&limit=5');
    const calls = (log.json as { items: Array<{ tool: string; via: string }> }).items;
    expect(calls.slice(0, 2).map((c) => c.tool)).toEqual(['echo', 'echo']);
    const events = await admin('/api/v1/events?category=toolcall&limit=200');
    expect(events.text).toContain('"servedAs":"say"');
  });

  it('a policy on the upstream tool still applies to it renamed', async () => {
    const p = await admin('/api/v1/principals', { body: { name: 'exec', roles: ['executor'] } });
    const key = (
      await admin('/api/v1/api-keys', { body: { name: 'exec', principalId: (p.json as { id: string }).id } })
    ).json as { key: string };
    const exec = await session('/servers/everything/mcp', { authorization: `Bearer ${key.key}` });
    expect(await names(exec)).toContain('say');
    const policy = await admin('/api/v1/policies', {
      body: {
        name: 'no echo',
        effect: 'deny',
        target: { actions: ['tool.call'], server: 'everything', tool: 'echo' },
      },
    });
    expect(policy.status, policy.text).toBeLessThan(300);
    await until(async () => (!(await names(exec)).includes('say') ? true : undefined), 15_000);
    const refused = await exec
      .callTool({ name: 'say', arguments: { message: 'x' } })
      .catch((e: McpError) => e);
    expect(refused).toBeInstanceOf(Error);
  });
});
