import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { sessionHash } from '../../application/toolcalls/call-tool.ts';
import { insufficientScope } from '../../domains/access/index.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Principal } from '../../kernel/principal.ts';
import { credentialOf } from '../auth/auth.plugin.ts';
import { type BrowserGuardOptions, hostAllowed, originAllowed } from '../browser-guard.ts';
import { missingScopes } from './method-actions.ts';
import { PREFIX_MODES, type PrefixMode } from './names.ts';
import { createSessionServer, type McpScope, type McpSessionDeps } from './session-server.ts';
import { WebSocketServerTransport } from './websocket-transport.ts';

export interface McpHttpOptions extends BrowserGuardOptions {
  /** Open sessions on this gateway, and per principal: past either, the least recently used is ended. */
  maxSessions?: number;
  maxSessionsPerPrincipal?: number;
  /** A session with no request for this long is closed (default 30 min). */
  sessionIdleMs: number;
  /**
   * Who a credential stands for now. A WebSocket session checks its credential again whenever
   * access changes in its tenant, and ends when it no longer holds (a revoked key, a disabled
   * principal). Absent: checked once, at the upgrade.
   */
  reauthenticate?: (authorization: string) => Promise<Principal>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  scope: McpScope;
  /** The principal that opened the session: no other may use or end it. */
  principal: Principal;
  lastSeen: number;
}

/** A session over WebSocket; `principal` follows its credential (see McpHttpOptions.reauthenticate). */
interface SocketSession extends Pick<Session, 'server' | 'scope' | 'principal'> {
  credential: string | undefined;
  close(): Promise<void>;
  refuse(reason: string): void;
}

const requestContext = new AsyncLocalStorage<{
  correlationId: string;
  traceparent: string | undefined;
  principal: Principal;
}>();

function jsonRpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply
    .status(status)
    .type('application/json')
    .send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * Streamable HTTP MCP endpoints: `/mcp` (every enabled server, collision-safe names, plus the
 * platform's tools) and `/servers/:name/mcp` (one server, names unchanged). Stateful sessions
 * (POST initialize → `Mcp-Session-Id`, GET for the server stream, DELETE to end) and stateless
 * requests (a POST without a session is served by a throw-away session).
 */
export function mcpRoutes(deps: McpSessionDeps, options: McpHttpOptions) {
  const sessions = new Map<string, Session>();
  /** Sessions over WebSocket: one per connection, never addressed by a session id. */
  const sockets = new Set<SocketSession>();
  const log = deps.logger.child({ module: 'mcp' });

  async function closeSession(id: string, s: Session): Promise<void> {
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }

  /**
   * A new session must fit under the caps: past the principal's, its own least recently used session
   * is ended; past the gateway's, the least recently used of all. Idle sessions go first by
   * construction, and one client opening sessions in a loop only ever pushes out its own.
   */
  function makeRoomFor(principal: Principal): void {
    const perPrincipal = options.maxSessionsPerPrincipal ?? Number.POSITIVE_INFINITY;
    const total = options.maxSessions ?? Number.POSITIVE_INFINITY;
    const lru = (filter: (s: Session) => boolean) => {
      let oldest: [string, Session] | undefined;
      for (const entry of sessions)
        if (filter(entry[1]) && (!oldest || entry[1].lastSeen < oldest[1].lastSeen)) oldest = entry;
      return oldest;
    };
    const mine = [...sessions.values()].filter((s) => s.principal.id === principal.id).length;
    if (mine >= perPrincipal) {
      const victim = lru((s) => s.principal.id === principal.id);
      if (victim) void closeSession(victim[0], victim[1]);
    }
    if (sessions.size >= total) {
      const victim = lru(() => true);
      if (victim) void closeSession(victim[0], victim[1]);
    }
  }

  async function scopeFor(
    request: FastifyRequest,
  ): Promise<{ scope: McpScope; capabilities?: Record<string, unknown> } | undefined> {
    if (request.routeOptions.url === '/platform/mcp') return { scope: { kind: 'platform' } };
    const toolset = (request.params as { toolset?: string }).toolset;
    if (toolset !== undefined) {
      // The caller's tenant's toolset; another tenant's is as unknown as one that does not exist.
      if (!(await deps.toolsets?.(request.principal.tenant, toolset))) return undefined;
      return { scope: { kind: 'aggregate', prefix: prefixOf(request), toolset: { name: toolset } } };
    }
    const name = (request.params as { name?: string }).name;
    if (name === undefined) return { scope: { kind: 'aggregate', prefix: prefixOf(request) } };
    const server = await deps.catalog.serverByName(name);
    // A server the caller may not see at all is answered like one that does not exist.
    const visible =
      server &&
      deps.authz.decide(request.principal, 'server.read', {
        kind: 'server',
        tenant: server.tenant,
        server: server.name,
        owner: server.owner,
      }).visible;
    return server && visible
      ? { scope: { kind: 'server', name }, capabilities: server.capabilities }
      : undefined;
  }

  /** The platform tool a tools/call name means on this endpoint, for the step-up check. */
  const platformActionOf = (scope: McpScope) => (name: string, args: Record<string, unknown>) => {
    if (scope.kind === 'platform') return deps.platform.actionOf(name, args);
    if (scope.kind === 'aggregate' && name.startsWith(deps.platformPrefix))
      return deps.platform.actionOf(name.slice(deps.platformPrefix.length), args);
    return undefined;
  };

  /** The prefix mode a client chose (`?prefix=`), else the gateway's; anything else is refused. */
  function prefixOf(request: FastifyRequest): PrefixMode {
    const asked = (request.query as { prefix?: unknown } | undefined)?.prefix;
    if (asked === undefined) return deps.naming.prefix;
    if (typeof asked === 'string' && (PREFIX_MODES as readonly string[]).includes(asked))
      return asked as PrefixMode;
    throw new AppError(
      'validation',
      'MCP.INVALID_PREFIX_MODE',
      `prefix must be one of ${PREFIX_MODES.join(', ')}`,
    );
  }

  function sameScope(a: McpScope, b: McpScope): boolean {
    if (a.kind === 'server') return b.kind === 'server' && a.name === b.name;
    if (a.kind === 'aggregate')
      return b.kind === 'aggregate' && a.prefix === b.prefix && a.toolset?.name === b.toolset?.name;
    return a.kind === b.kind;
  }

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!hostAllowed(request, options))
      return jsonRpcError(reply, 403, -32000, 'Host not allowed (DNS rebinding protection)');
    if (!originAllowed(request, options)) return jsonRpcError(reply, 403, -32000, 'Origin not allowed');
    const target = await scopeFor(request);
    if (!target) {
      const what = request.routeOptions.url === '/toolsets/:toolset/mcp' ? 'no toolset' : 'no enabled server';
      return jsonRpcError(reply, 404, -32001, `${what} with that name`);
    }
    if (request.method === 'POST') {
      const missing = missingScopes(request.body, request.principal, platformActionOf(target.scope));
      if (missing.length > 0) throw insufficientScope('this request', missing);
    }

    const ctx = {
      correlationId: String(request.id),
      traceparent: request.headers.traceparent as string | undefined,
      principal: request.principal,
    };
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      // Another principal's session is as unknown as a session that never was.
      if (
        !session ||
        !sameScope(session.scope, target.scope) ||
        session.principal.id !== request.principal.id
      )
        return jsonRpcError(reply, 404, -32001, 'Session not found');
      session.lastSeen = Date.now();
      reply.hijack();
      await requestContext.run(ctx, () =>
        session.transport.handleRequest(request.raw, reply.raw, request.body),
      );
      return;
    }
    if (request.method !== 'POST') {
      return jsonRpcError(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }

    const opener = request.principal;
    const identity = {
      principal: () => requestContext.getStore()?.principal ?? opener,
      correlationId: () => requestContext.getStore()?.correlationId ?? ctx.correlationId,
      traceparent: () => requestContext.getStore()?.traceparent,
    };
    const server = createSessionServer(deps, target.scope, identity, target.capabilities);
    const stateful = isInitializeRequest(request.body);
    const transport = new StreamableHTTPServerTransport(
      stateful
        ? {
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => {
              makeRoomFor(opener);
              sessions.set(id, {
                transport,
                server,
                scope: target.scope,
                principal: opener,
                lastSeen: Date.now(),
              });
              log.info(
                { session: sessionHash(id), scope: target.scope, actor: opener.id },
                'mcp session opened',
              );
            },
            onsessionclosed: (id) => {
              const s = sessions.get(id);
              if (s) void closeSession(id, s);
              log.info({ session: sessionHash(id) }, 'mcp session closed');
            },
          }
        : { sessionIdGenerator: undefined, enableJsonResponse: true },
    );
    await server.connect(transport);
    reply.hijack();
    if (!stateful) {
      reply.raw.on('close', () => {
        void transport.close().catch(() => undefined);
        void server.close().catch(() => undefined);
      });
    }
    await requestContext.run(ctx, () => transport.handleRequest(request.raw, reply.raw, request.body));
    return;
  }

  /**
   * WebSocket sessions have the same caps as HTTP ones (counted apart): past the principal's, its
   * oldest connection is closed; past the gateway's, the oldest of all.
   */
  function makeRoomForSocket(principal: Principal): void {
    const mine = [...sockets].filter((s) => s.principal.id === principal.id);
    if (mine.length >= (options.maxSessionsPerPrincipal ?? Number.POSITIVE_INFINITY))
      mine[0]?.refuse('too many sessions for this principal: the oldest is closed');
    if (sockets.size >= (options.maxSessions ?? Number.POSITIVE_INFINITY))
      [...sockets][0]?.refuse('too many sessions on this gateway: the oldest is closed');
  }

  /** MCP over WebSocket: one connection is one session of the aggregate endpoint (`?prefix=` as on /mcp). */
  function openSocket(socket: WebSocket, request: FastifyRequest): void {
    const transport = new WebSocketServerTransport(socket);
    let scope: McpScope;
    try {
      scope = { kind: 'aggregate', prefix: prefixOf(request) };
    } catch {
      transport.refuse(undefined, `prefix must be one of ${PREFIX_MODES.join(', ')}`);
      return;
    }
    let principal = request.principal;
    const server = createSessionServer(deps, scope, {
      principal: () => principal,
      correlationId: () => randomUUID(),
      traceparent: () => undefined,
    });
    const entry: SocketSession = {
      server,
      scope,
      get principal() {
        return principal;
      },
      set principal(now) {
        principal = now;
      },
      credential: credentialOf(request),
      close: () => transport.close(),
      refuse: (reason) => transport.refuse(undefined, reason),
    };
    makeRoomForSocket(entry.principal);
    sockets.add(entry);
    // Set before connect: the SDK chains its own close handler after this one.
    transport.onclose = () => {
      sockets.delete(entry);
    };
    void server.connect(transport).catch((e: unknown) => {
      log.debug({ err: e }, 'websocket session failed to start');
      transport.refuse();
    });
  }

  /** Access changed in these tenants: each WebSocket session there shows its credential again. */
  async function recheckSockets(tenants: ReadonlySet<string>): Promise<void> {
    const check = options.reauthenticate;
    if (!check) return;
    await Promise.allSettled(
      [...sockets]
        .filter((s) => s.credential !== undefined && (tenants.has('*') || tenants.has(s.principal.tenant)))
        .map(async (s) => {
          try {
            const now = await check(s.credential!);
            if (now.id !== s.principal.id) throw new Error('another principal');
            s.principal = now;
          } catch {
            sockets.delete(s);
            s.refuse('the credential no longer holds');
          }
        }),
    );
  }

  const plugin = async (app: FastifyInstance) => {
    for (const url of ['/mcp', '/servers/:name/mcp', '/platform/mcp', '/toolsets/:toolset/mcp']) {
      app.route({ method: ['GET', 'POST', 'DELETE'], url, schema: { hide: true }, handler: handle });
    }
    app.route({
      method: 'GET',
      url: '/ws',
      schema: { hide: true },
      handler: async (_request, reply) =>
        jsonRpcError(reply, 426, -32000, 'Upgrade Required: /ws speaks MCP over WebSocket (subprotocol mcp)'),
      wsHandler: openSocket,
    });
    const reaper = setInterval(
      () => {
        const cutoff = Date.now() - options.sessionIdleMs;
        for (const [id, s] of sessions) if (s.lastSeen < cutoff) void closeSession(id, s);
      },
      Math.min(60_000, options.sessionIdleMs),
    );
    reaper.unref();
    app.addHook('onClose', async () => {
      clearInterval(reaper);
      await Promise.all([...sessions].map(([id, s]) => closeSession(id, s)));
      await Promise.all([...sockets].map((s) => s.close()));
    });
  };

  return {
    plugin,
    /** Open sessions (for status and tests). */
    sessionCount: () => sessions.size,
    /**
     * Tells every session whose lists may have changed: after discovery (of `serverName`), or after
     * an access change in `tenants` (a grant, a revocation, a policy: what a session may see changed).
     */
    /** Tells the sessions of a toolset (of any tenant: the name is all an event gives) its tools changed. */
    async notifyToolsetChanged(name: string): Promise<void> {
      const of = [...sessions.values(), ...sockets].filter(
        (s) => s.scope.kind === 'aggregate' && s.scope.toolset?.name === name,
      );
      await Promise.allSettled(of.map((s) => s.server.sendToolListChanged()));
    },
    async notifyListChanged(serverName?: string, tenants?: ReadonlySet<string>): Promise<void> {
      if (tenants !== undefined) await recheckSockets(tenants);
      for (const s of [...sessions.values(), ...sockets]) {
        if (tenants !== undefined) {
          if (!tenants.has(s.principal.tenant) && !tenants.has('*')) continue;
        } else if (s.scope.kind === 'platform') continue;
        if (s.scope.kind === 'server' && serverName !== undefined && s.scope.name !== serverName) continue;
        await Promise.allSettled([
          s.server.sendToolListChanged(),
          s.server.sendResourceListChanged(),
          s.server.sendPromptListChanged(),
        ]);
      }
    },
  };
}

export type McpEndpoints = ReturnType<typeof mcpRoutes>;
