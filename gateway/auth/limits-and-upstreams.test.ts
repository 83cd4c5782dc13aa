import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { TEST_ADMIN_KEY } from '../../test/access.ts';
import { until } from '../../test/e2e/program.ts';
import { type HttpFixture, startHttpFixture } from '../../test/fixtures/upstreams/http.server.ts';
import { client, startMemorySystem } from '../../test/systems.ts';
import { JSONRPC_RATE_LIMITED } from '../error-mapping.ts';

/**
 * Rate limits as configured (per principal and tool, per client address) on REST and MCP, and the
 * caller's credential never reaching an upstream.
 */
describe('rate limits and upstream credentials', () => {
  let system: System;
  let upstream: HttpFixture;
  let alice: { id: string; key: string };
  const admin = () => client(system);

  beforeAll(async () => {
    upstream = await startHttpFixture();
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const p = await admin()('/api/v1/principals', { body: { name: 'alice', roles: ['executor'] } });
    const k = await admin()('/api/v1/api-keys', { body: { name: 'alice', principalId: p.json.id } });
    alice = { id: p.json.id as string, key: k.json.key as string };
    const r = await admin()('/api/v1/servers?wait=true', {
      body: {
        name: 'fixture',
        transport: {
          type: 'streamable-http',
          url: upstream.url,
          headers: { 'X-Api-Key': 'configured-upstream-key' },
        },
      },
    });
    expect(r.status).toBe(202);
    await until(async () =>
      (await admin()('/api/v1/servers/fixture/tools/echo', { body: { message: 'up?' } })).status === 200
        ? true
        : undefined,
    );
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await upstream?.close();
  });

  it('never passes the caller’s credential to an upstream, only the server’s own configured one', async () => {
    const before = upstream.stats().credentials.length;
    const r = await client(system, alice.key)('/api/v1/servers/fixture/tools/echo', {
      body: { message: 'hi' },
    });
    expect(r.status).toBe(200);
    const seen = upstream.stats().credentials.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    for (const c of [...upstream.stats().credentials]) {
      expect(c).not.toContain(alice.key);
      expect(c).not.toContain(TEST_ADMIN_KEY);
      expect(c.split('|')[1]).toBe('configured-upstream-key');
    }
  });

  it('limits a principal per tool: 429 with Retry-After on REST, a JSON-RPC error with the retry time on MCP', async () => {
    const set = await admin()('/api/v1/rate-limits', {
      body: {
        name: 'echo sparingly',
        scope: 'principal-tool',
        points: 3,
        windowSeconds: 3600,
        match: { principal: alice.id, server: 'fixture', tool: 'echo' },
      },
    });
    expect(set.status).toBe(202);
    const rest = () =>
      client(system, alice.key)('/api/v1/servers/fixture/tools/echo', { body: { message: 'x' } });
    expect((await rest()).status).toBe(200);
    expect((await rest()).status).toBe(200);
    const mcp = new Client({ name: 'limited', version: '1' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/servers/fixture/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${alice.key}` } },
      }),
    );
    try {
      expect((await mcp.callTool({ name: 'echo', arguments: { message: 'third' } })).content).toEqual([
        { type: 'text', text: 'third' },
      ]);
      const refused = await mcp
        .callTool({ name: 'echo', arguments: { message: 'fourth' } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({
        code: JSONRPC_RATE_LIMITED,
        data: { code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) },
      });
      // Another tool of the same server is not limited by it.
      expect((await mcp.callTool({ name: 'pid', arguments: {} })).isError).not.toBe(true);
    } finally {
      await mcp.close();
    }
    const limited = await rest();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-policy')).toMatch(/;q=3;w=3600$/);
    // The refused calls never reached the upstream nor the log as calls.
    const calls = await admin()('/api/v1/tool-calls?server=fixture&tool=echo');
    const mine = (calls.json.items as Array<{ actor: string; arguments: { message?: string } }>).filter(
      (c) => c.actor === alice.id && c.arguments.message !== 'hi',
    );
    expect(mine.map((c) => c.arguments.message).sort()).toEqual(['third', 'x', 'x']);
  });

  it('limits every client address before authentication, when an address limit is configured', async () => {
    const set = await admin()('/api/v1/rate-limits', {
      body: { name: 'per address', scope: 'address', points: 4, windowSeconds: 3600 },
    });
    expect(set.status).toBe(202);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await client(system, '')('/api/v1/me')).status);
    // Counted before the credential is looked at: anonymous requests spend the address's budget too.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect((await admin()('/api/v1/me')).status).toBe(429);
    expect((await fetch(`${system.url}/health`)).status).toBe(200);
  });
});
