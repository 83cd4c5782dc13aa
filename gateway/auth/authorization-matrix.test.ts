import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../domains/access/index.ts';
import type { Permission } from '../../kernel/principal.ts';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startMemorySystem } from '../../test/systems.ts';
import { authPlugin, type GatewayAuth } from './auth.plugin.ts';
import { PUBLIC_ROUTES, ROUTE_ACTIONS } from './route-actions.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/**
 * The authorization matrix, generated from the one declarative table (route-actions.ts): every REST
 * route and every MCP method × {anonymous, reader, executor, writer, manager, another tenant's
 * manager}, against a whole system with a real MCP server behind it. What each principal holds is
 * written out here by hand from the roles' definition, not taken from the code under test.
 */
type Who = 'anonymous' | 'reader' | 'executor' | 'writer' | 'manager' | 'otherManager';
type Outcome = 'allow' | 'deny' | 'hidden' | 'unauth';
const WHO: Who[] = ['anonymous', 'reader', 'executor', 'writer', 'manager', 'otherManager'];
const HOLDS: Record<Exclude<Who, 'anonymous'>, Permission[]> = {
  reader: ['mcp:read'],
  executor: ['mcp:read', 'mcp:execute'],
  writer: ['mcp:read', 'mcp:execute', 'mcp:write'],
  manager: ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'],
  otherManager: ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'],
};
const managers = (who: Who): Outcome =>
  who === 'manager' ? 'allow' : who === 'otherManager' ? 'hidden' : 'deny';
const ownTenantManagers = (who: Who): Outcome =>
  who === 'manager' || who === 'otherManager' ? 'allow' : 'deny';

/**
 * What the use-case routes decide (they know whose key or grant it is); the rest follows from the
 * table: the action's permission, on the caller's tenant, a server (another tenant's is hidden),
 * the platform (administrators only) or the caller itself.
 */
const USE_CASE: Record<string, (who: Who) => Outcome> = {
  'GET /api/v1/servers': () => 'allow',
  // Counts only the servers the caller may read: every principal gets an answer.
  'GET /api/v1/health/servers': () => 'allow',
  'POST /api/v1/servers/:name/tools/:tool': (w) =>
    w === 'reader' || w === 'otherManager' ? 'hidden' : 'allow',
  'GET /api/v1/principals': ownTenantManagers,
  'POST /api/v1/principals': ownTenantManagers,
  'GET /api/v1/principals/:id': managers,
  'PATCH /api/v1/principals/:id': managers,
  'POST /api/v1/principals/:id/erase': managers,
  'GET /api/v1/api-keys': () => 'allow',
  'POST /api/v1/api-keys': () => 'allow',
  'POST /api/v1/api-keys/:keyId/rotate': managers,
  'DELETE /api/v1/api-keys/:keyId': managers,
  'GET /api/v1/grants': ownTenantManagers,
  'POST /api/v1/grants': managers,
  'DELETE /api/v1/grants/:id': managers,
  'GET /api/v1/policies': ownTenantManagers,
  'POST /api/v1/policies': ownTenantManagers,
  'PUT /api/v1/policies/:id': managers,
  'DELETE /api/v1/policies/:id': managers,
  'GET /api/v1/rate-limits': ownTenantManagers,
  'POST /api/v1/rate-limits': managers,
  'DELETE /api/v1/rate-limits/:id': managers,
  'GET /api/v1/authz/explain': managers,
};

function expected(route: string, who: Who, stdio: boolean): Outcome {
  if (who === 'anonymous') return 'unauth';
  const rule = ROUTE_ACTIONS[route]!;
  if (rule.resource === 'use-case') return USE_CASE[route]!(who);
  // Signed routes (git webhooks) take no bearer credential: without a signature everyone gets 401.
  if (rule.resource === 'signature') return 'unauth';
  let action = rule.action;
  if (route === 'POST /api/v1/servers' && stdio) action = 'server.register-stdio';
  if (route === 'PATCH /api/v1/servers/:id') action = 'server.update-stdio';
  const needed = ACTIONS[action].permission;
  const holds = HOLDS[who].includes(needed);
  switch (rule.resource) {
    case 'self':
      return route.includes('/servers/:name/mcp') && who === 'otherManager' ? 'hidden' : 'allow';
    case 'platform':
      return 'deny';
    case 'server':
      if (who === 'otherManager') return 'hidden';
      return holds ? 'allow' : 'deny';
    default:
      return holds ? 'allow' : 'deny';
  }
}

const STATUS: Record<Exclude<Outcome, 'allow'>, number> = { deny: 403, hidden: 404, unauth: 401 };

/** Runs last: they change what other rows need (a disabled or removed server). */
// Last: they end what the rows before them use (the victim principal, the server).
const LAST = [
  'POST /api/v1/principals/:id/erase',
  'POST /api/v1/servers/:id/disable',
  'POST /api/v1/servers/:id/enable',
  'DELETE /api/v1/servers/:id',
];

describe('authorization matrix', () => {
  let system: System;
  const keys: Partial<Record<Who, string>> = {};
  const ids = { server: '', victim: '', victimKey: '', grant: '', policy: '', rateLimit: '' };

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const admin = client(system);
    const ok = async (path: string, body: unknown) => {
      const r = await admin(path, { body });
      expect(r.status, `${path}: ${r.text}`).toBeLessThan(300);
      return r.json as Record<string, unknown>;
    };
    await ok('/api/v1/tenants', { id: 'team-b', name: 'Team B' });
    const roles = { reader: 'reader', executor: 'executor', writer: 'writer', manager: 'manager' } as const;
    for (const [who, role] of Object.entries(roles)) {
      const p = await ok('/api/v1/principals', { name: who, roles: [role] });
      keys[who as Who] = (await ok('/api/v1/api-keys', { name: who, principalId: p.id })).key as string;
    }
    const other = await ok('/api/v1/principals', {
      name: 'other-manager',
      roles: ['manager'],
      tenant: 'team-b',
    });
    keys.otherManager = (await ok('/api/v1/api-keys', { name: 'other', principalId: other.id }))
      .key as string;
    const victim = await ok('/api/v1/principals', { name: 'victim', roles: ['reader'] });
    ids.victim = victim.id as string;
    ids.victimKey = (await ok('/api/v1/api-keys', { name: 'victim', principalId: ids.victim }))
      .keyId as string;
    ids.grant = (
      await ok('/api/v1/grants', {
        subject: { type: 'principal', id: ids.victim },
        permission: 'mcp:read',
        resource: { type: 'server', server: 'nothing-*' },
      })
    ).id as string;
    ids.policy = (
      await ok('/api/v1/policies', {
        name: 'inert',
        effect: 'deny',
        target: { actions: ['tool.call'], server: 'nothing-*' },
      })
    ).id as string;
    ids.rateLimit = (
      await ok('/api/v1/rate-limits', {
        name: 'inert',
        scope: 'principal',
        points: 1_000_000,
        windowSeconds: 1,
        match: { principal: ids.victim },
      })
    ).id as string;
    ids.server = (
      await ok('/api/v1/servers?wait=true', {
        name: 'everything',
        transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      })
    ).id as string;
    await until(async () => {
      const r = await admin('/api/v1/servers/everything/tools/echo', { body: { message: 'ready?' } });
      return r.status === 200 ? true : undefined;
    }, 60_000);
  }, 120_000);
  afterAll(() => system?.stop());

  describe('MCP methods', () => {
    const sessions: Client[] = [];
    afterAll(async () => {
      for (const c of sessions) await c.close().catch(() => undefined);
    });

    async function session(who: Who, path = '/servers/everything/mcp') {
      const c = new Client({ name: `matrix-${who}`, version: '1.0.0' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(`${system.url}${path}`), {
          requestInit: { headers: who === 'anonymous' ? {} : { authorization: `Bearer ${keys[who]}` } },
        }),
      );
      sessions.push(c);
      return c;
    }

    it('anonymous callers and another tenant cannot open a session on the server', async () => {
      await expect(session('anonymous')).rejects.toThrow(/401|Unauthorized/);
      await expect(session('otherManager')).rejects.toThrow(/404|no enabled server/);
    });

    it('tools/list shows exactly what each may call; tools/call agrees; an unseen tool is an unknown tool', async () => {
      for (const who of ['reader', 'executor', 'writer', 'manager'] as const) {
        const c = await session(who);
        const { tools } = await c.listTools();
        const mayCall = HOLDS[who].includes('mcp:execute');
        expect(
          tools.some((t) => t.name === 'echo'),
          who,
        ).toBe(mayCall);
        if (mayCall) {
          const r = await c.callTool({ name: 'echo', arguments: { message: who } });
          expect(r.content).toEqual([{ type: 'text', text: `Echo: ${who}` }]);
        } else {
          const hidden = await c
            .callTool({ name: 'echo', arguments: { message: who } })
            .catch((e: Error) => e);
          const unknown = await c.callTool({ name: 'no-such-tool', arguments: {} }).catch((e: Error) => e);
          expect(hidden).toBeInstanceOf(Error);
          expect((hidden as Error).message.replace('echo', 'X')).toBe(
            (unknown as Error).message.replace('no-such-tool', 'X'),
          );
        }
        // Reading resources and prompts needs read only.
        expect((await c.listResources()).resources.length).toBeGreaterThan(0);
        expect((await c.listPrompts()).prompts.length).toBeGreaterThan(0);
      }
    });

    interface ModernAnswer {
      result: {
        supportedVersions: string[];
        tools: Array<{ name: string }>;
        cacheScope: string;
        content: unknown;
      };
      error?: { data?: { code?: string } };
    }

    /** One 2026-07-28 (stateless) request to /servers/everything/mcp as `who`. */
    async function modern(who: Who, method: string, params: Record<string, unknown> = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': method,
      };
      if (typeof params.name === 'string') headers['mcp-name'] = params.name;
      if (who !== 'anonymous') headers.authorization = `Bearer ${keys[who]}`;
      const res = await fetch(`${system.url}/servers/everything/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method,
          params: {
            ...params,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as ModernAnswer };
    }

    it('2026-07-28 requests: server/discover and tools/list need a credential; tools/call as in a session', async () => {
      expect((await modern('anonymous', 'server/discover')).status).toBe(401);
      expect((await modern('otherManager', 'server/discover')).status).toBe(404);
      for (const who of ['reader', 'executor', 'writer', 'manager'] as const) {
        const discovered = await modern(who, 'server/discover');
        expect(discovered.status, who).toBe(200);
        expect(discovered.body.result.supportedVersions).toContain('2026-07-28');
        const listed = await modern(who, 'tools/list');
        const mayCall = HOLDS[who].includes('mcp:execute');
        const names = listed.body.result.tools.map((t) => t.name);
        expect(names.includes('echo'), who).toBe(mayCall);
        expect(listed.body.result.cacheScope).toBe('private');
        const called = await modern(who, 'tools/call', { name: 'echo', arguments: { message: who } });
        if (mayCall)
          expect(called.body.result.content, who).toEqual([{ type: 'text', text: `Echo: ${who}` }]);
        else expect(called.body.error?.data?.code, who).toBe('MCP.UNKNOWN_TOOL');
      }
    });

    it('2026-07-28 subscriptions/listen needs a credential; a reader gets the acknowledgement', async () => {
      expect((await modern('anonymous', 'subscriptions/listen', { notifications: {} })).status).toBe(401);
      const stop = new AbortController();
      const res = await fetch(`${system.url}/servers/everything/mcp`, {
        method: 'POST',
        signal: stop.signal,
        headers: {
          authorization: `Bearer ${keys.reader}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'subscriptions/listen',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 'listen-1',
          method: 'subscriptions/listen',
          params: {
            notifications: { toolsListChanged: true },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const { value } = await reader.read();
      const first = new TextDecoder().decode(value);
      expect(first).toContain('notifications/subscriptions/acknowledged');
      expect(first).toContain('"io.modelcontextprotocol/subscriptionId":"listen-1"');
      stop.abort();
    });

    it('the aggregate endpoint shows another tenant none of this tenant’s tools, and platform tools by role', async () => {
      const other = await session('otherManager', '/mcp');
      const otherTools = (await other.listTools()).tools.map((t) => t.name);
      expect(otherTools.some((n) => n.startsWith('everything__'))).toBe(false);
      expect(otherTools).toContain('switchyard__list-servers');
      const reader = await session('reader', '/mcp');
      const readerTools = (await reader.listTools()).tools.map((t) => t.name);
      expect(readerTools).toContain('switchyard__list-servers');
      expect(readerTools).not.toContain('switchyard__register-server');
      expect(readerTools.some((n) => n.startsWith('everything__'))).toBe(false);
      const writer = await session('writer', '/mcp');
      const writerTools = (await writer.listTools()).tools.map((t) => t.name);
      expect(writerTools).toContain('switchyard__register-server');
      expect(writerTools).toContain('everything__echo');
      // deploy-server runs a command on the host (deployment.create, mcp:manage): managers only.
      expect(readerTools).not.toContain('switchyard__deploy-server');
      expect(writerTools).not.toContain('switchyard__deploy-server');
      const manager = await session('manager', '/mcp');
      expect((await manager.listTools()).tools.map((t) => t.name)).toContain('switchyard__deploy-server');
      const hiddenDeploy = await writer
        .callTool({
          name: 'switchyard__deploy-server',
          arguments: { server: 'x', source: { directory: 'x' } },
        })
        .catch((e: Error) => e);
      expect(hiddenDeploy).toBeInstanceOf(Error);
      // search-tools: every role may search; each finds only the tools it may call.
      const search = async (c: Client) => {
        const r = await c.callTool({ name: 'switchyard__search-tools', arguments: { query: 'echo' } });
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        return (r.structuredContent as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
      };
      expect(readerTools).toContain('switchyard__search-tools');
      expect(otherTools).toContain('switchyard__search-tools');
      expect(await search(reader)).toEqual([]);
      expect(await search(other)).toEqual([]);
      expect((await search(writer))[0]).toBe('everything__echo');
      // A writer may register an HTTP server through the platform tool, not a stdio one.
      const stdio = await writer.callTool({
        name: 'switchyard__register-server',
        arguments: { name: 'sneaky', transport: { type: 'stdio', command: 'sh', args: ['-c', 'id'] } },
      });
      expect(stdio.isError).toBe(true);
      expect(JSON.stringify(stdio.content)).toContain('AUTHZ.DENIED');
    });
  });

  function requestFor(route: string, stdio: boolean): { path: string; method: string; body?: unknown } {
    const [method, url] = route.split(' ') as [string, string];
    const id = url.includes('/servers/:id')
      ? ids.server
      : url.includes('/principals/')
        ? ids.victim
        : url.includes('/grants/')
          ? ids.grant
          : url.includes('/policies/')
            ? ids.policy
            : url.includes('/rate-limits/')
              ? ids.rateLimit
              : randomUUID();
    const name =
      url.startsWith('/api/v1/servers') || url.startsWith('/servers')
        ? 'everything'
        : url.includes('projections')
          ? 'servers'
          : 'nosuch';
    let path = url
      .replace(':id', id)
      .replace(':name', name)
      .replace(':tool', 'echo')
      .replace(':keyId', ids.victimKey)
      .replace(':eventId', randomUUID());
    const bodies: Record<string, unknown> = {
      'POST /api/v1/servers': { transport: { type: stdio ? 'stdio' : 'streamable-http' } },
      'POST /api/v1/servers/:name/tools/:tool': { message: 'matrix' },
      // The server does not pin its tools: an allowed caller gets 409 (CATALOG.NOT_PINNED).
      'POST /api/v1/servers/:id/tools/:tool/approve': { hash: '0'.repeat(64) },
      // Platform routes: nobody in the matrix is an administrator, so the event need not exist.
      'POST /api/v1/projections/:name/quarantine': { eventId: randomUUID(), reason: 'matrix' },
      'POST /api/v1/projections/:name/quarantine/:eventId/release': { reason: 'matrix' },
      'POST /api/v1/principals': { name: 'made-by-matrix', roles: ['reader'] },
      'PATCH /api/v1/principals/:id': { roles: ['reader'] },
      'POST /api/v1/api-keys': { name: 'own key' },
      'POST /api/v1/grants': {
        subject: { type: 'principal', id: ids.victim },
        permission: 'mcp:read',
        resource: { type: 'server', server: 'nothing-*' },
      },
      'POST /api/v1/policies': {
        name: 'inert',
        effect: 'deny',
        target: { actions: ['tool.call'], server: 'nothing-*' },
      },
      'PUT /api/v1/policies/:id': {
        name: 'inert',
        effect: 'deny',
        target: { actions: ['tool.call'], server: 'nothing-*' },
      },
      'POST /api/v1/rate-limits': {
        name: 'inert',
        scope: 'principal',
        points: 1_000_000,
        windowSeconds: 1,
        match: { principal: ids.victim },
      },
      'POST /mcp': {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'm', version: '1' } },
      },
    };
    if (route === 'GET /api/v1/authz/explain') path += `?action=tool.call&principal=${ids.victim}`;
    const body =
      bodies[route] ??
      (url.endsWith('/mcp') && method === 'POST'
        ? bodies['POST /mcp']
        : ['POST', 'PUT', 'PATCH'].includes(method) && !url.match(/enable|disable|refresh|rotate/)
          ? {}
          : undefined);
    return { path, method, ...(body !== undefined && { body }) };
  }

  /** Routes that answer an allowed caller with a stream that does not end: the status is all a row needs. */
  const STREAMING = new Set(['GET /api/v1/events/stream']);
  async function streamStatus(path: string, who: Who): Promise<{ status: number; text: string }> {
    const stop = new AbortController();
    const res = await fetch(`${system.url}${path}`, {
      headers: who === 'anonymous' ? {} : { authorization: `Bearer ${keys[who]}` },
      signal: stop.signal,
    });
    const text = res.status === 200 ? '' : await res.text();
    stop.abort();
    return { status: res.status, text };
  }

  const routes = [...Object.keys(ROUTE_ACTIONS).filter((r) => !LAST.includes(r)), 'GET /docs', ...LAST];
  const rows = routes.flatMap((route) =>
    route === 'POST /api/v1/servers'
      ? [
          { route, stdio: true },
          { route, stdio: false },
        ]
      : [{ route, stdio: false }],
  );

  it('covers every route the gateway serves, and every route of the table exists', () => {
    for (const route of Object.keys(ROUTE_ACTIONS)) {
      const [method, url] = route.split(' ') as [string, string];
      expect(system.app!.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
  });

  for (const { route, stdio } of rows) {
    it(`${route}${route === 'POST /api/v1/servers' ? (stdio ? ' (stdio)' : ' (http)') : ''}`, async () => {
      const outcomes: string[] = [];
      const wanted: string[] = [];
      for (const who of WHO) {
        const rule = route === 'GET /docs' ? undefined : ROUTE_ACTIONS[route];
        const want: Outcome =
          route === 'GET /docs' ? (who === 'anonymous' ? 'unauth' : 'allow') : expected(route, who, stdio);
        void rule;
        const { path, method, body } = requestFor(route, stdio);
        const res = STREAMING.has(route)
          ? await streamStatus(path, who)
          : await client(system, who === 'anonymous' ? '' : keys[who])(path, {
              method,
              body,
              headers: { accept: 'application/json, text/event-stream' },
            });
        const got =
          res.status === 401
            ? 'unauth'
            : res.status === 403
              ? 'deny'
              : want === 'hidden' && res.status === 404
                ? 'hidden'
                : 'allow';
        outcomes.push(`${who}:${got}${got === 'allow' ? `(${res.status})` : ''}`);
        wanted.push(`${who}:${want}`);
        if (want !== 'allow') expect(res.status, `${who} ${method} ${path}: ${res.text}`).toBe(STATUS[want]);
      }
      expect(outcomes.map((o) => o.replace(/\(\d+\)$/, ''))).toEqual(wanted);
    });
  }

  // The public rows: the console's page, code and sign-in settings carry no data — every caller,
  // anonymous included, gets them (what the console then shows comes from the routes above).
  for (const route of [...PUBLIC_ROUTES].filter((r) => r.startsWith('GET /console'))) {
    it(`${route} (public)`, async () => {
      const path = route.split(' ')[1]!.replace(':file', 'console.js');
      for (const who of WHO) {
        const res = await client(system, who === 'anonymous' ? '' : keys[who])(path);
        expect(res.status, `${who} GET ${path}`).toBe(200);
      }
    });
  }

  it('a route missing from the table stops the gateway from starting', async () => {
    const app = Fastify();
    await app.register(authPlugin, { auth: {} as GatewayAuth, metrics: new Registry() });
    expect(() => app.get('/api/v1/undeclared', async () => 'x')).toThrow(
      /GET \/api\/v1\/undeclared has no entry in the authorization table/,
    );
    await app.close();
  });
});
