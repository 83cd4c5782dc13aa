import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Bus } from '../../bus/bus.port.ts';
import { insufficientScope } from '../../domains/access/index.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Principal } from '../../kernel/principal.ts';
import { validTraceparent } from '../../kernel/tracing.ts';
import { credentialOf } from '../auth/auth.plugin.ts';
import { type BrowserGuardOptions, hostAllowed, originAllowed } from '../browser-guard.ts';
import { missingScopes } from './method-actions.ts';
import { checkModernRequest, isModernRequest } from './modern/envelope.ts';
import { InputRounds } from './modern/input-rounds.ts';
import { listenFilter, openListenStream } from './modern/listen-stream.ts';
import { serveModern } from './modern/modern-endpoint.ts';
import { forwardRoundsOver, serveRoundsForwardedHere } from './modern/round-forwarding.ts';
import { PREFIX_MODES, type PrefixMode } from './names.ts';
import {
  createSessionServer,
  type McpScope,
  type McpSessionDeps,
  type SessionIdentity,
} from './session-server.ts';
import { type HttpSessions, httpSessions } from './shared-sessions/http-sessions.ts';
import type { SessionStore } from './shared-sessions/session-store.ts';
import { newGatewayId } from './shared-sessions/session-transport.ts';
import { WebSocketServerTransport } from './websocket-transport.ts';

export interface McpHttpOptions extends BrowserGuardOptions {
  /** Where Streamable HTTP sessions live, so that any gateway serves them, and how gateways talk. */
  sessionStore: SessionStore;
  bus: Bus;
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

/**
 * A session held by one connection — a WebSocket, or a 2026-07-28 `subscriptions/listen` stream;
 * `principal` follows its credential (see McpHttpOptions.reauthenticate).
 */
interface SocketSession {
  server: Server;
  scope: McpScope;
  principal: Principal;
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
  /** Streamable HTTP sessions, shared with the other gateways; set when the plugin registers. */
  let http: HttpSessions | undefined;
  /** Sessions over WebSocket: one per connection, never addressed by a session id. */
  const sockets = new Set<SocketSession>();
  /** This gateway among those serving the same sessions and rounds. */
  const gatewayId = newGatewayId();
  /** 2026-07-28 requests waiting for their clients' answers to an upstream's questions. */
  const rounds = new InputRounds(gatewayId);
  const forwardRound = forwardRoundsOver(options.bus, rounds.idleMs);
  const log = deps.logger.child({ module: 'mcp' });

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
      traceparent: validTraceparent(request.headers.traceparent),
      principal: request.principal,
    };
    const sessionId = request.headers['mcp-session-id'];
    if (
      request.method === 'POST' &&
      typeof sessionId !== 'string' &&
      isModernRequest(request.headers, request.body)
    ) {
      // The stateless revision (2026-07-28): each request on its own, whatever gateway it reaches.
      // A notification (a client's cancellation, say) concerns a request this gateway answers on
      // its own stream, where closing the stream is what cancels: nothing more to do with it.
      const body = request.body as { method?: unknown; id?: unknown } | undefined;
      if (
        typeof body?.method === 'string' &&
        body.method.startsWith('notifications/') &&
        body.id === undefined
      )
        return reply.status(202).send();
      const checked = checkModernRequest(request.headers, request.body);
      if ('status' in checked)
        return reply.status(checked.status).type('application/json').send(checked.body);
      const principal = request.principal;
      const identity = {
        principal: () => principal,
        correlationId: () => ctx.correlationId,
        traceparent: () => ctx.traceparent,
      };
      if (checked.method === 'subscriptions/listen') {
        const filter = listenFilter(checked);
        if (typeof filter === 'string')
          return reply
            .status(400)
            .type('application/json')
            .send({
              jsonrpc: '2.0',
              id: checked.id,
              error: { code: ErrorCode.InvalidParams, message: filter },
            });
        reply.hijack();
        const stream = await openListenStream(deps, target, checked, filter, identity, reply.raw);
        // Held like a WebSocket session: told of list changes, its credential checked again, capped.
        const entry: SocketSession = {
          server: stream.server,
          scope: target.scope,
          principal,
          credential: credentialOf(request),
          close: () => stream.close(),
          refuse: (reason) => stream.refuse(reason),
        };
        makeRoomForSocket(principal);
        sockets.add(entry);
        stream.onEnd = () => sockets.delete(entry);
        return;
      }
      reply.hijack();
      await serveModern(
        deps,
        target,
        checked,
        identity,
        reply.raw,
        (request.headers.accept ?? '').includes('text/event-stream'),
        rounds,
        forwardRound,
      );
      return;
    }
    const sessions = http;
    if (!sessions) return jsonRpcError(reply, 503, -32000, 'MCP sessions are not ready');
    if (typeof sessionId === 'string') {
      const session = await sessions.find(sessionId, request.principal, target);
      if (!session) return jsonRpcError(reply, 404, -32001, 'Session not found');
      reply.hijack();
      await requestContext.run(ctx, () => session.transport.handle(request.raw, reply.raw, request.body));
      return;
    }
    if (request.method !== 'POST') {
      return jsonRpcError(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    if (isInitializeRequest(request.body)) {
      const transport = await sessions.open(request.principal, target, request.body.params);
      reply.hijack();
      await requestContext.run(ctx, () => transport.handle(request.raw, reply.raw, request.body));
      return;
    }

    // A request without a session: served by a session of its own, gone with the response.
    const opener = request.principal;
    const server = createSessionServer(deps, target.scope, identityOf(opener), target.capabilities);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await requestContext.run(ctx, () => transport.handleRequest(request.raw, reply.raw, request.body));
    return;
  }

  /** Who sends a session's current message: as authenticated on the request carrying it. */
  function identityOf(opener: Principal): SessionIdentity {
    return {
      principal: () => requestContext.getStore()?.principal ?? opener,
      correlationId: () => requestContext.getStore()?.correlationId ?? randomUUID(),
      traceparent: () => requestContext.getStore()?.traceparent,
    };
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
    const sessions = await httpSessions(
      deps,
      {
        store: options.sessionStore,
        bus: options.bus,
        idleMs: options.sessionIdleMs,
        gatewayId,
        ...(options.maxSessions !== undefined && { maxSessions: options.maxSessions }),
        ...(options.maxSessionsPerPrincipal !== undefined && {
          maxSessionsPerPrincipal: options.maxSessionsPerPrincipal,
        }),
      },
      identityOf,
    );
    http = sessions;
    const roundsHere = await serveRoundsForwardedHere(options.bus, rounds);
    const reaper = setInterval(
      () =>
        void sessions.reap().catch((e: unknown) => log.warn({ err: e }, 'could not end idle MCP sessions')),
      Math.min(60_000, options.sessionIdleMs),
    );
    reaper.unref();
    // Before the server stops listening: open streams would hold it (the sessions stay, in the store).
    app.addHook('preClose', async () => {
      clearInterval(reaper);
      http = undefined;
      await Promise.all([sessions.close(), roundsHere.close()]);
    });
    app.addHook('onClose', async () => {
      await Promise.all([...sockets].map((s) => s.close()));
      await rounds.closeAll();
    });
  };

  return {
    plugin,
    /** Open sessions (for status and tests). */
    sessionCount: () => [...(http?.copies() ?? [])].length,
    /**
     * Tells every session whose lists may have changed: after discovery (of `serverName`), or after
     * an access change in `tenants` (a grant, a revocation, a policy: what a session may see changed).
     */
    /** Tells the sessions of a toolset (of any tenant: the name is all an event gives) its tools changed. */
    async notifyToolsetChanged(name: string): Promise<void> {
      const of = [...(http?.copies() ?? []), ...sockets].filter(
        (s) => s.scope.kind === 'aggregate' && s.scope.toolset?.name === name,
      );
      await Promise.allSettled(of.map((s) => s.server.sendToolListChanged()));
    },
    async notifyListChanged(serverName?: string, tenants?: ReadonlySet<string>): Promise<void> {
      if (tenants !== undefined) await recheckSockets(tenants);
      for (const s of [...(http?.copies() ?? []), ...sockets]) {
        if (tenants !== undefined) {
          const tenant = 'principal' in s ? s.principal.tenant : s.tenant;
          if (!tenants.has(tenant) && !tenants.has('*')) continue;
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
