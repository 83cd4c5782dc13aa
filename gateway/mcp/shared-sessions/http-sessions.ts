import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { sessionHash } from '../../../application/toolcalls/call-tool.ts';
import type { Bus } from '../../../bus/bus.port.ts';
import type { Principal } from '../../../kernel/principal.ts';
import {
  createSessionServer,
  type McpScope,
  type McpSessionDeps,
  type SessionIdentity,
} from '../session-server.ts';
import { releaseSubscriptions } from '../session-subscriptions.ts';
import { connectReplicas, type Replicas } from './replicas.ts';
import type { SessionInitialize, SessionRecord, SessionStore } from './session-store.ts';
import { SessionTransport } from './session-transport.ts';
import { type SharedState, sharedState } from './shared-state.ts';

export interface HttpSessionsOptions {
  store: SessionStore;
  bus: Bus;
  /** A session with no request for this long ends (on every gateway). */
  idleMs: number;
  /** This gateway's id (newGatewayId) among those serving the sessions. */
  gatewayId: string;
  /** Sessions served by this gateway, and per principal: past either, the least recently used ends. */
  maxSessions?: number;
  maxSessionsPerPrincipal?: number;
}

/** What a request is about: the session's endpoint, and (one server's endpoint) its capabilities. */
export interface SessionTarget {
  scope: McpScope;
  capabilities?: Record<string, unknown>;
}

/** This gateway's copy of a shared session. */
interface SessionCopy {
  id: string;
  hash: string;
  transport: SessionTransport;
  server: Server;
  scope: McpScope;
  /** Who opened the session: no other principal may use or end it. */
  principalId: string;
  tenant: string;
  state: SharedState;
  lastSeen: number;
  touchedAt: number;
}

export function sameScope(a: McpScope, b: McpScope): boolean {
  if (a.kind === 'server') return b.kind === 'server' && a.name === b.name;
  if (a.kind === 'aggregate')
    return b.kind === 'aggregate' && a.prefix === b.prefix && a.toolset?.name === b.toolset?.name;
  return a.kind === b.kind;
}

/**
 * Streamable HTTP sessions that any gateway serves. A session lives in the store (who opened it,
 * what it is about, the client's initialize, its log level and subscriptions); a gateway that gets a
 * request for a session it does not hold takes it over by replaying the initialize into a copy of
 * its own. Copies tell each other of changes and endings over the bus, and a client's answer to a
 * request of another gateway's copy is handed to that gateway (SessionTransport). Closing a copy
 * (idle here, shutdown, caps of another session) leaves the session to the others; it ends when its
 * client deletes it, when it has been idle everywhere for `idleMs`, or when the caps push it out.
 */
export async function httpSessions(
  deps: McpSessionDeps,
  options: HttpSessionsOptions,
  identityOf: (opener: Principal) => SessionIdentity,
) {
  const copies = new Map<string, SessionCopy>();
  const byHash = new Map<string, SessionCopy>();
  const adopting = new Map<string, Promise<SessionCopy | undefined>>();
  const log = deps.logger.child({ module: 'mcp.sessions' });
  const touchEveryMs = Math.min(10_000, Math.max(1, Math.floor(options.idleMs / 4)));
  const idleSince = () => new Date(Date.now() - options.idleMs);

  const replicas: Replicas = await connectReplicas(
    options.bus,
    options.gatewayId,
    {
      onChanged: (session, kind, from) => {
        if (from === replicas.gatewayId) return;
        const copy = byHash.get(session);
        if (!copy) return;
        if (kind === 'ended') {
          drop(copy);
          // Repeated where the session ended; here it stops this gateway listening for its updates.
          releaseSubscriptions(deps.upstreams, log, copy.hash, copy.state.subscriptions().values());
          return;
        }
        options.store.find(session, idleSince()).then(
          (now) => (now ? copy.state.refresh(now) : drop(copy)),
          (e: unknown) => log.warn({ err: e, session }, 'could not read a shared session that changed'),
        );
      },
      onAnswer: (session, message) => byHash.get(session)?.transport.deliver(message),
    },
    log,
  );

  function copyOf(
    id: string,
    record: SessionRecord,
    target: SessionTarget,
    opener: Principal,
    fresh: boolean,
  ) {
    const state = sharedState(record, {
      store: options.store,
      upstreams: deps.upstreams,
      logger: log,
      changed: () => replicas.changed(record.hash, 'changed'),
    });
    const server = createSessionServer(deps, record.scope, identityOf(opener), target.capabilities, state);
    const transport = new SessionTransport(
      {
        sessionIdGenerator: () => id,
        ...(fresh && {
          onsessioninitialized: async () => {
            makeRoomFor(opener);
            await options.store.open(record);
            keep(copy);
            log.info({ session: record.hash, scope: record.scope, actor: opener.id }, 'mcp session opened');
          },
        }),
        onsessionclosed: async () => {
          await end(copy, 'closed by its client');
        },
      },
      {
        gatewayId: replicas.gatewayId,
        forward: (to, message) =>
          void replicas
            .forwardAnswer(to, record.hash, message)
            .catch((e: unknown) => log.warn({ err: e }, 'could not hand an answer to its gateway')),
      },
    );
    const copy: SessionCopy = {
      id,
      hash: record.hash,
      transport,
      server,
      scope: record.scope,
      principalId: record.principalId,
      tenant: record.tenant,
      state,
      lastSeen: Date.now(),
      touchedAt: Date.now(),
    };
    return copy;
  }

  function keep(copy: SessionCopy): void {
    copies.set(copy.id, copy);
    byHash.set(copy.hash, copy);
  }

  /** Closes this gateway's copy; the session goes on wherever the client's next request lands. */
  function drop(copy: SessionCopy): void {
    if (copies.get(copy.id) !== copy) return;
    copies.delete(copy.id);
    byHash.delete(copy.hash);
    void copy.transport.close().catch(() => undefined);
    void copy.server.close().catch(() => undefined);
  }

  /** Ends the session everywhere: out of the store, its subscriptions released, the others told. */
  async function end(copy: SessionCopy, why: string): Promise<void> {
    drop(copy);
    const ended = await options.store.end(copy.hash);
    if (!ended) return;
    releaseSubscriptions(deps.upstreams, log, ended.hash, Object.values(ended.subscriptions));
    await replicas.changed(ended.hash, 'ended').catch(() => undefined);
    log.info({ session: ended.hash, why }, 'mcp session ended');
  }

  /**
   * A new session must fit under the caps: past the principal's, its own least recently used session
   * ends; past the gateway's, the least recently used of all. Idle sessions go first by
   * construction, and one client opening sessions in a loop only ever pushes out its own.
   */
  function makeRoomFor(principal: Principal): void {
    const lru = (filter: (s: SessionCopy) => boolean) => {
      let oldest: SessionCopy | undefined;
      for (const s of copies.values()) if (filter(s) && (!oldest || s.lastSeen < oldest.lastSeen)) oldest = s;
      return oldest;
    };
    const mine = [...copies.values()].filter((s) => s.principalId === principal.id).length;
    if (mine >= (options.maxSessionsPerPrincipal ?? Number.POSITIVE_INFINITY)) {
      const victim = lru((s) => s.principalId === principal.id);
      if (victim) void end(victim, 'too many sessions for its principal');
    }
    if (copies.size >= (options.maxSessions ?? Number.POSITIVE_INFINITY)) {
      const victim = lru(() => true);
      if (victim) void end(victim, 'too many sessions on this gateway');
    }
  }

  /** A copy of a session another gateway opened (or this one, before a restart), if the caller may use it. */
  async function adopt(
    id: string,
    principal: Principal,
    target: SessionTarget,
  ): Promise<SessionCopy | undefined> {
    const record = await options.store.find(sessionHash(id), idleSince());
    if (!record || record.principalId !== principal.id || !sameScope(record.scope, target.scope))
      return undefined;
    const copy = copyOf(id, record, target, principal, false);
    try {
      await copy.server.connect(copy.transport);
      await copy.transport.adopt(record.initialize);
    } catch (e) {
      // Answered as an unknown session: the client opens a new one.
      log.warn({ err: e, session: record.hash }, 'could not take a session over');
      await copy.server.close().catch(() => undefined);
      return undefined;
    }
    keep(copy);
    log.info({ session: record.hash, actor: principal.id }, 'mcp session taken over');
    return copy;
  }

  return {
    /** The copy serving a request for session `id`: this gateway's, or one taken over now. */
    async find(id: string, principal: Principal, target: SessionTarget): Promise<SessionCopy | undefined> {
      let copy = copies.get(id);
      if (!copy) {
        let pending = adopting.get(id);
        if (!pending) {
          pending = adopt(id, principal, target).finally(() => adopting.delete(id));
          adopting.set(id, pending);
        }
        copy = await pending;
      }
      // Another principal's session is as unknown as a session that never was.
      if (!copy || copy.principalId !== principal.id || !sameScope(copy.scope, target.scope))
        return undefined;
      const now = Date.now();
      copy.lastSeen = now;
      if (now - copy.touchedAt >= touchEveryMs) {
        copy.touchedAt = now;
        options.store
          .touch(copy.hash)
          .catch((e: unknown) => log.warn({ err: e, session: copy.hash }, 'could not mark a session used'));
      }
      return copy;
    },

    /** A transport for a client's initialize: the session exists once it has been answered. */
    async open(
      opener: Principal,
      target: SessionTarget,
      initialize: SessionInitialize,
    ): Promise<SessionTransport> {
      const id = randomUUID();
      const record: SessionRecord = {
        hash: sessionHash(id),
        principalId: opener.id,
        tenant: opener.tenant,
        scope: target.scope,
        initialize,
        logLevel: undefined,
        subscriptions: {},
      };
      const copy = copyOf(id, record, target, opener, true);
      await copy.server.connect(copy.transport);
      return copy.transport;
    },

    /** This gateway's copies (for notifications and counts). */
    copies: () => copies.values(),

    /** Drops copies idle here, and ends the sessions idle everywhere. */
    async reap(): Promise<void> {
      const cutoff = Date.now() - options.idleMs;
      for (const copy of [...copies.values()]) if (copy.lastSeen < cutoff) drop(copy);
      for (const ended of await options.store.expire(new Date(cutoff))) {
        const copy = byHash.get(ended.hash);
        if (copy) drop(copy);
        releaseSubscriptions(deps.upstreams, log, ended.hash, Object.values(ended.subscriptions));
        await replicas.changed(ended.hash, 'ended').catch(() => undefined);
      }
    },

    /** Shutdown: this gateway's copies close, the sessions stay for the others (and a restart). */
    async close(): Promise<void> {
      for (const copy of [...copies.values()]) drop(copy);
      await replicas.close();
    },
  };
}

export type HttpSessions = Awaited<ReturnType<typeof httpSessions>>;
