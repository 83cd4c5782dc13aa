import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { System } from '../../runtime/compose.ts';
import { TEST_ADMIN_KEY } from '../access.ts';
import { everythingEntry as EVERYTHING } from '../runners.ts';
import { client, registerStdioServer, startMemorySystem } from '../systems.ts';
import { until } from './program.ts';

// The SDK's client transport uses the global WebSocket, which Node 20 has only behind a flag.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/**
 * MCP over WebSocket at /ws, with the SDK's own WebSocket client: the aggregate endpoint, the same
 * authentication (a client that cannot send headers gives its key as `?access_token=`, which no
 * log line or answer repeats), the same audit.
 */
describe('MCP over WebSocket', () => {
  let system: System;
  const clients: Client[] = [];
  const wsUrl = (query: string) => new URL(`${system.url!.replace(/^http/, 'ws')}/ws${query}`);
  const connect = async (query: string) => {
    const c = new Client({ name: 'ws', version: '1.0.0' });
    await c.connect(new WebSocketClientTransport(wsUrl(query)));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    await registerStdioServer(system, 'everything', [EVERYTHING], { tool: 'echo', args: { message: 'x' } });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await system?.stop();
  }, 30_000);

  it('serves the aggregate endpoint and audits its calls', async () => {
    const c = await connect(`?access_token=${TEST_ADMIN_KEY}&prefix=collisions`);
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toContain('echo');
    expect(names).toContain('switchyard__search-tools');
    const r = await c.callTool({ name: 'echo', arguments: { message: 'over ws' } });
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: over ws' }]);
    // The read model trails the log a little.
    const call = await until(async () => {
      const log = await client(system)('/api/v1/tool-calls?server=everything&limit=5');
      const items = (log.json as { items: Array<{ tool: string; via: string; arguments: unknown }> }).items;
      return items.find((i) => i.via === 'mcp');
    }, 10_000);
    expect(call).toMatchObject({ tool: 'echo', arguments: { message: 'over ws' } });
  });

  it('refuses a connection without a valid credential, and never repeats the token', async () => {
    await expect(connect('')).rejects.toThrow();
    await expect(connect('?access_token=sy_nope')).rejects.toThrow();
    const plain = await fetch(`${system.url}/ws?access_token=sy_secret_not_a_key_123`);
    expect(plain.status).toBe(401);
    const body = await plain.text();
    expect(body).not.toContain('sy_secret_not_a_key_123');
    expect(body).toContain('access_token=REDACTED');
    const upgradeless = await fetch(`${system.url}/ws?access_token=${TEST_ADMIN_KEY}`);
    expect(upgradeless.status).toBe(426);
  });

  it('ends a session whose key is revoked while it is open', async () => {
    const admin = client(system);
    const p = await admin('/api/v1/principals', { body: { name: 'ws-user', roles: ['executor'] } });
    const issued = (
      await admin('/api/v1/api-keys', { body: { name: 'ws', principalId: (p.json as { id: string }).id } })
    ).json as { key: string; keyId: string };
    const c = await connect(`?access_token=${issued.key}`);
    let closed = false;
    c.onclose = () => {
      closed = true;
    };
    expect(
      (await c.callTool({ name: 'everything__echo', arguments: { message: 'still mine' } })).content,
    ).toEqual([{ type: 'text', text: 'Echo: still mine' }]);
    expect((await admin(`/api/v1/api-keys/${issued.keyId}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await until(async () => (closed ? true : undefined), 15_000);
    await expect(c.callTool({ name: 'everything__echo', arguments: { message: 'x' } })).rejects.toThrow();
  });
});

describe('MCP over WebSocket, session caps', () => {
  it("closes a principal's oldest connection past its cap, as on HTTP", async () => {
    const system = await startMemorySystem({
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_MCP_MAX_SESSIONS_PER_PRINCIPAL: '2',
    });
    const opened: Client[] = [];
    try {
      const closed = new Set<number>();
      for (let i = 0; i < 3; i++) {
        const c = new Client({ name: `cap-${i}`, version: '1.0.0' });
        c.onclose = () => void closed.add(i);
        await c.connect(
          new WebSocketClientTransport(
            new URL(`${system.url!.replace(/^http/, 'ws')}/ws?access_token=${TEST_ADMIN_KEY}`),
          ),
        );
        opened.push(c);
      }
      await until(async () => (closed.has(0) ? true : undefined), 10_000);
      expect(closed.has(1) || closed.has(2)).toBe(false);
      expect((await opened[2]!.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await Promise.allSettled(opened.map((c) => c.close()));
      await system.stop();
    }
  }, 60_000);
});
