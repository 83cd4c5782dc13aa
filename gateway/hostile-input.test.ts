import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCallTool } from '../application/toolcalls/call-tool.ts';
import { systemClock } from '../kernel/clock.ts';
import { randomIds } from '../kernel/ids.ts';
import { silentLogger } from '../kernel/logger.ts';
import type { Upstreams } from '../runners/upstream.port.ts';
import type { System } from '../runtime/compose.ts';
import { noToolLimits, roomyInFlight, TEST_ADMIN_KEY, testAdmin, testAuthorizer } from '../test/access.ts';
import { until } from '../test/e2e/program.ts';
import { startMutableUpstream } from '../test/fixtures/mutable-upstream.ts';
import { type HttpFixture, startHttpFixture } from '../test/fixtures/upstreams/http.server.ts';
import { client, startMemorySystem } from '../test/systems.ts';

const bigints = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * Values that cannot be stored, out-of-range parameters and reserved names are refused at the edge
 * with a 400 that changes nothing; a tool never runs without its record.
 */
describe('hostile input at the edge', () => {
  let system: System;
  let upstream: HttpFixture;
  const admin = () => client(system);
  const log = async () => JSON.stringify(await system.store.readAll({ maxCount: 100_000 }), bigints);
  // What requests append; health and discovery append on their own at any time.
  const background = /^(health|discovery|catalog)-/;
  const count = async () =>
    (await system.store.readAll({ maxCount: 100_000 })).filter((e) => !background.test(e.stream)).length;

  beforeAll(async () => {
    upstream = await startHttpFixture();
    system = await startMemorySystem({
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_MCP_MAX_SESSIONS_PER_PRINCIPAL: '2',
      SWITCHYARD_REQUEST_TIMEOUT_MS: '1500',
      SWITCHYARD_HEADERS_TIMEOUT_MS: '1500',
    });
    const r = await admin()('/api/v1/servers?wait=true', {
      body: { name: 'fixture', transport: { type: 'streamable-http', url: upstream.url } },
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

  it('answers malformed path and query values with 400, never 500', async () => {
    for (const path of [
      '/api/v1/servers/%00',
      '/api/v1/servers/a%00b/enable',
      '/api/v1/events?after=99999999999999999999',
      '/api/v1/servers?minPosition=9223372036854775808',
      '/api/v1/tool-calls?actor=%00',
      '/api/v1/servers/%ED%A0%80',
    ]) {
      const method = path.endsWith('/enable') ? 'POST' : 'GET';
      const res = await admin()(path, { method });
      expect(res.status, `${path}: ${res.text}`).toBe(400);
    }
  });

  it('refuses a body holding NUL or a lone surrogate, appending nothing at all (no name reserved)', async () => {
    const before = await count();
    for (const body of [
      { name: 'nul', description: 'a\u0000b', transport: { type: 'streamable-http', url: upstream.url } },
      {
        name: 'surrogate',
        description: 'x\uD800y',
        transport: { type: 'streamable-http', url: upstream.url },
      },
      {
        name: 'key',
        transport: { type: 'streamable-http', url: upstream.url, headers: { 'x-a': 'v\u0000' } },
      },
    ]) {
      const res = await admin()('/api/v1/servers', { body });
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('REQUEST.UNSTORABLE');
    }
    expect(await count()).toBe(before);
  });

  it('refuses a server named like the platform', async () => {
    const res = await admin()('/api/v1/servers', {
      body: { name: 'switchyard', transport: { type: 'streamable-http', url: upstream.url } },
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('reserved for the platform');
  });

  it('refuses tool arguments the log cannot hold before the upstream sees them, on REST and MCP', async () => {
    const calls = () => upstream.stats().methods.filter((m) => m === 'tools/call').length;
    const seen = calls();
    // Health and discovery append on their own meanwhile: what must not grow is the calls' log.
    const toolCallEvents = async () =>
      (await system.store.readAll({ filter: { categories: ['toolcall'] }, maxCount: 100_000 })).length;
    const before = await toolCallEvents();
    const rest = await admin()('/api/v1/servers/fixture/tools/echo', {
      body: { message: 'wrote a file\u0000' },
    });
    expect(rest.status).toBe(400);
    const mcp = new Client({ name: 'hostile', version: '1' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/servers/fixture/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } },
      }),
    );
    try {
      const err = await mcp
        .callTool({ name: 'echo', arguments: { message: '\uDFFF' } })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCode.InvalidParams });
    } finally {
      await mcp.close();
    }
    // Health checks of the shared fixture go on meanwhile: what must not have reached it is a call.
    expect(calls()).toBe(seen);
    expect(await toolCallEvents()).toBe(before);
    expect(await log()).not.toContain('wrote a file');
  });

  it('records tool arguments with credentials redacted, by name, by value and by pattern', async () => {
    const secret = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    const res = await admin()('/api/v1/servers/fixture/tools/echo', {
      body: {
        message: `use https://alice:hunter2@git.example/x with ${secret} and Authorization: Bearer abc.def.ghi`,
      },
    });
    expect(res.status).toBe(200);
    // The log holds the arguments sealed with the caller's key; what they say is read where they are
    // opened — the tool-call read model — and the redaction happened before either.
    const recorded = await log();
    for (const leaked of [secret, 'hunter2', 'abc.def.ghi', 'git.example'])
      expect(recorded).not.toContain(leaked);
    const call = await until(async () => {
      const r = await admin()(`/api/v1/tool-calls/${res.json.callId}`);
      return r.status === 200 ? r.text : undefined;
    });
    for (const leaked of [secret, 'hunter2', 'abc.def.ghi']) expect(call).not.toContain(leaked);
    expect(call).toContain('git.example');
  });

  it('refuses a credential in an upstream URL, and seals one given as transport.query', async () => {
    const key = 'sk-live0123456789abcdefghijklmnop';
    const before = await count();
    for (const url of [
      `${upstream.url}?api_key=plain`,
      `${upstream.url}?x=1&access_token=abc`,
      `${upstream.url}?k=${key}`,
      `${upstream.url}?jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln`,
    ]) {
      const r = await admin()('/api/v1/servers', {
        body: { name: 'keyed', transport: { type: 'streamable-http', url } },
      });
      expect(r.status, url).toBe(400);
      expect(r.text).toContain('transport.query');
      expect(r.text).not.toContain(key);
    }
    expect(await count()).toBe(before);

    const r = await admin()('/api/v1/servers?wait=true', {
      body: {
        name: 'keyed',
        transport: { type: 'streamable-http', url: `${upstream.url}?region=eu`, query: { api_key: key } },
      },
    });
    expect(r.status).toBe(202);
    const seen = upstream.stats().queries.length;
    await until(async () =>
      (await admin()('/api/v1/servers/keyed/tools/echo', { body: { message: 'keyed' } })).status === 200
        ? true
        : undefined,
    );
    // The fixture is shared with servers of other tests (their health checks): this server's
    // requests are the ones with its URL's own parameter.
    const sent = upstream
      .stats()
      .queries.slice(seen)
      .filter((q) => new URLSearchParams(q).get('region') === 'eu');
    expect(sent.length).toBeGreaterThan(0);
    for (const q of sent) expect(new URLSearchParams(q).get('api_key')).toBe(key);

    const shown = await admin()('/api/v1/servers/keyed', { method: 'GET' });
    expect(shown.json).toMatchObject({ transport: { query: { api_key: '[redacted]' } } });
    expect(shown.text).not.toContain(key);
    expect(await log()).not.toContain(key);
  });

  it('keeps serving an upstream whose catalog holds what the log cannot: replaced, not fatal', async () => {
    const dirty = await startMutableUpstream('echoes\u0000 with a NUL and a \uD800 lone surrogate');
    try {
      const r = await admin()('/api/v1/servers?wait=true', {
        body: { name: 'dirty', transport: { type: 'streamable-http', url: dirty.url } },
      });
      expect(r.status).toBe(202);
      const ok = await until(async () => {
        const call = await admin()('/api/v1/servers/dirty/tools/echo', { body: { message: 'still here' } });
        return call.status === 200 ? call : undefined;
      });
      expect(ok.text).toContain('still here');
      const catalog = JSON.stringify(
        await system.store.readAll({ filter: { categories: ['catalog'] }, maxCount: 10_000 }),
        bigints,
      );
      expect(catalog).toContain('echoes\uFFFD with a NUL');
    } finally {
      await dirty.close();
    }
  });

  it('checks Host and Origin on every route (DNS rebinding, cross-origin pages)', async () => {
    const rebound = await rawRequest(system.url!, 'GET /api/v1/me HTTP/1.1', { host: 'attacker.example' });
    expect(rebound).toMatch(/^HTTP\/1\.1 403/);
    expect(rebound).toContain('REQUEST.HOST_NOT_ALLOWED');
    const page = await admin()('/api/v1/servers', { headers: { origin: 'https://evil.example' } });
    expect(page.status).toBe(403);
    expect(page.json.code).toBe('REQUEST.ORIGIN_NOT_ALLOWED');
    expect((await admin()('/api/v1/servers', { headers: { origin: system.url! } })).status).toBe(200);
  });

  it('cuts off a client that trickles its request body', { timeout: 20_000 }, async () => {
    const answer = await rawRequest(
      system.url!,
      'POST /api/v1/servers HTTP/1.1',
      {
        'content-type': 'application/json',
        'content-length': '200',
        authorization: `Bearer ${TEST_ADMIN_KEY}`,
      },
      { trickle: '{"name":"slow"', everyMs: 500, forMs: 6_000 },
    );
    // Answered 408 (and closed) before the trickle was done: the request timeout, not the client, ended it.
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps MCP sessions per principal: a new one ends the least recently used', async () => {
    const open = async () => {
      const transport = new StreamableHTTPClientTransport(new URL(`${system.url}/servers/fixture/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } },
      });
      const c = new Client({ name: 'capped', version: '1' });
      await c.connect(transport);
      return { c, id: transport.sessionId! };
    };
    const first = await open();
    const second = await open();
    const third = await open();
    const ping = (id: string) =>
      fetch(`${system.url}/servers/fixture/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          'mcp-session-id': id,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    expect((await ping(first.id)).status).toBe(404);
    expect((await ping(second.id)).status).toBe(200);
    expect((await ping(third.id)).status).toBe(200);
    for (const s of [first, second, third]) await s.c.close().catch(() => undefined);
  });

  it('calls no upstream when the start of the call cannot be recorded', async () => {
    let called = 0;
    const upstreams = {
      callTool: async () => {
        called++;
        return { content: [] };
      },
    } as Partial<Upstreams> as Upstreams;
    const callTool = makeCallTool({
      upstreams,
      authz: testAuthorizer(),
      limits: noToolLimits,
      inFlight: roomyInFlight,
      journal: {
        start: async () => {
          throw new Error('database down');
        },
        complete: async () => {
          throw new Error('database down');
        },
      },
      clock: systemClock,
      ids: randomIds,
      logger: silentLogger(),
    });
    const call = callTool({
      server: {
        serverId: randomIds.uuid(),
        name: 's',
        tenant: 'default',
        owner: 'o',
        tools: [{ name: 'write_file' }],
      },
      tool: 'write_file',
      args: {},
      principal: testAdmin(),
      unknownTool: () => new Error('unknown'),
      via: 'rest',
      correlationId: 'c',
    });
    await expect(call).rejects.toMatchObject({ code: 'AUDIT.UNAVAILABLE' });
    expect(called).toBe(0);
  });
});

/** One HTTP/1.1 request over a raw socket (headers a fetch would not let us forge, bodies sent slowly). */
async function rawRequest(
  base: string,
  requestLine: string,
  headers: Record<string, string>,
  slow?: { trickle: string; everyMs: number; forMs: number },
): Promise<string> {
  const { connect } = await import('node:net');
  const u = new URL(base);
  const socket = connect(Number(u.port), u.hostname);
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const head = { host: u.host, connection: 'close', ...headers };
  socket.write(
    `${requestLine}\r\n${Object.entries(head)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n')}\r\n\r\n`,
  );
  if (slow) {
    const started = Date.now();
    for (const ch of slow.trickle) {
      if (socket.destroyed || Date.now() - started > slow.forMs) break;
      socket.write(ch);
      await new Promise((r) => setTimeout(r, slow.everyMs));
    }
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, slow ? 1_000 : 5_000))]);
  socket.destroy();
  return answer;
}
