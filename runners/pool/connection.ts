import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { type EgressGuard, egressRefusalIn } from '../egress.ts';
import { JsonRpcError } from '../json-rpc-error.ts';
import type { ListChanged } from '../upstream.port.ts';
import { attribute, relatedRequestKey } from './attributed-streams.ts';
import type { CallContext, CallRouter, Route } from './call-router.ts';
import { spawnServer } from './child-process.ts';
import { createEgressFetch } from './egress-fetch.ts';
import { describeHttpFailure } from './errors.ts';
import { ModernHttpTransport } from './modern-http.ts';
import { discoverModern, MODERN_VERSION } from './modern-wire.ts';
import { ChildStdioTransport } from './stdio-transport.ts';

/** Where one instance lives: a command to start, or a URL to reach. */
export type InstanceTarget =
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string | undefined }
  | { type: 'streamable-http'; url: string; headers: Record<string, string> }
  | { type: 'sse'; url: string; headers: Record<string, string> };

/** An initialized MCP session with one instance. */
export interface Connection {
  readonly client: Client;
  /** The pid of a stdio process, or the URL. */
  readonly target: string;
  /** The process id of a stdio instance. */
  readonly pid?: number;
  readonly protocolVersion: string | undefined;
  /**
   * URIs this session asked the upstream to subscribe to (kept by the pool): a session that
   * replaces it starts empty, and is subscribed again to what callers still want.
   */
  readonly subscriptions: Set<string>;
  /** Resolves once, when the session is gone (process exited, transport closed). */
  readonly closed: Promise<void>;
  /** Why it ended: exit code and last stderr line, or the protocol violation. */
  closeReason(): string | undefined;
  /** Ends it on purpose (requests in flight fail with `reason`): DELETE the HTTP session, or reap the process tree. */
  close(reason?: string): Promise<void>;
  /** Drops a session that no longer works, without the courtesy of a DELETE. */
  abandon(reason: string): void;
}

export interface ConnectOptions {
  target: InstanceTarget;
  router: CallRouter;
  capabilities: ClientCapabilities;
  clientInfo: { name: string; version: string };
  connectTimeoutMs: number;
  killGraceMs: number;
  logger: Logger;
  onListChanged: (kind: ListChanged['kind']) => void;
  /** notifications/resources/updated: they carry no call, so they go to the pool, not a caller. */
  onResourceUpdated: (uri: string) => void;
  /** Where HTTP/SSE targets may connect, checked at every connection. */
  egress: EgressGuard;
  /** A stdio process wrote a line to stderr. */
  onStderr?: (line: string, pid: number) => void;
}

/** Capabilities the gateway can relay to its own clients. */
export const RELAY_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: {},
};

/** What the caller of request `key` can be asked (none, for a request of no call: discovery, a ping). */
function callerCapabilities(router: CallRouter, key: string | undefined): ClientCapabilities {
  const handlers = key === undefined ? undefined : router.handlersOf(key);
  return {
    ...(handlers?.createMessage && { sampling: {} }),
    ...(handlers?.elicit && { elicitation: { form: {}, url: {} } }),
    ...(handlers?.listRoots && { roots: {} }),
  };
}

/** How often a session says that it refused a message as ambiguous (see ambiguityWarning). */
const AMBIGUITY_WARNING_MS = 60_000;

/**
 * Says, at most once a minute per session, that a message naming no request was refused because
 * calls of several clients were in flight on it, and what makes such messages exact: a refused
 * sampling request is a failed call its client cannot explain.
 */
function ambiguityWarning(logger: Logger): (route: Route, what: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (route, what) => {
    if (route.kind !== 'ambiguous' || Date.now() - last < AMBIGUITY_WARNING_MS) return;
    last = Date.now();
    logger.warn(
      { what, callers: route.callers },
      'refused a server message that names no request: calls of several clients were in flight on one upstream session (settings.clientSessions gives each client a session of its own)',
    );
  };
}

/** The call a server-initiated request goes to, or the JSON-RPC error the server gets instead. */
function callFor(route: Route, what: string, warn: (route: Route, what: string) => void): CallContext {
  if (route.kind === 'call') return route.call;
  warn(route, what);
  if (route.kind === 'none') {
    throw new JsonRpcError(
      ErrorCode.MethodNotFound,
      `${what} is not available: no client call in flight can serve it`,
    );
  }
  throw new JsonRpcError(
    ErrorCode.InvalidRequest,
    `${what} refused: calls of ${route.callers} different clients are in flight on this server instance and MCP does not say which one asked`,
  );
}

/** A client whose server-initiated requests and notifications go to the call that caused them. */
function routedClient(options: ConnectOptions): Client {
  const { router, logger } = options;
  const warn = ambiguityWarning(logger);
  const client = new Client(options.clientInfo, { capabilities: options.capabilities });
  // The SDK refuses a handler for a capability the client does not declare.
  const caps = options.capabilities;
  if (caps.sampling) {
    client.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
      const call = callFor(
        router.route((h) => h.createMessage !== undefined, relatedRequestKey()),
        'sampling',
        warn,
      );
      return call.handlers.createMessage!(request.params, AbortSignal.any([extra.signal, call.signal]));
    });
  }
  if (caps.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      const call = callFor(
        router.route((h) => h.elicit !== undefined, relatedRequestKey()),
        'elicitation',
        warn,
      );
      return call.handlers.elicit!(request.params, AbortSignal.any([extra.signal, call.signal]));
    });
  }
  if (caps.roots) {
    client.setRequestHandler(ListRootsRequestSchema, async (_request, extra) => {
      const call = callFor(
        router.route((h) => h.listRoots !== undefined, relatedRequestKey()),
        'roots',
        warn,
      );
      return call.handlers.listRoots!(AbortSignal.any([extra.signal, call.signal]));
    });
  }
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    const route = router.route((h) => h.onLog !== undefined, relatedRequestKey());
    if (route.kind === 'call') route.call.handlers.onLog?.(notification.params);
    else {
      warn(route, 'a log message');
      logger.debug(
        { level: notification.params.level, data: notification.params.data, route: route.kind },
        'server log',
      );
    }
  });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => options.onListChanged('tools'));
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () =>
    options.onListChanged('resources'),
  );
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => options.onListChanged('prompts'));
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) =>
    options.onResourceUpdated(notification.params.uri),
  );
  client.onerror = (e) => logger.debug({ err: e.message }, 'client error');
  return client;
}

/** The negotiated protocol version is only handed to the transport; catch it on the way. */
function captureProtocolVersion(transport: Transport): () => string | undefined {
  let version: string | undefined;
  const original = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    version = v;
    original?.(v);
  };
  return () => version;
}

/**
 * The SDK hands a notification to its handler a microtask late, but settles a response at once: a
 * call's last progress or log message, arriving in the same chunk as its result (an SSE stream
 * writes both in one go), would find the call gone and be dropped. Responses are delivered a
 * microtask later, after what came before them. Set once the client is connected (connect installs
 * the handler wrapped here).
 */
function keepNotificationsBeforeResponses(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    if ('id' in message && !('method' in message)) queueMicrotask(() => deliver(message, extra));
    else deliver(message, extra);
  };
}

/**
 * Opens one instance: spawns the process or reaches the URL, then runs the MCP initialize
 * handshake within `connectTimeoutMs`. Throws an AppError ('upstream') that says why it failed,
 * with the process's last stderr line when there is one.
 */
export async function openConnection(options: ConnectOptions): Promise<Connection> {
  return options.target.type === 'stdio'
    ? openStdio(options, options.target)
    : openHttp(options, options.target);
}

async function openStdio(
  options: ConnectOptions,
  target: Extract<InstanceTarget, { type: 'stdio' }>,
): Promise<Connection> {
  const proc = await spawnServer({
    command: target.command,
    args: target.args,
    env: target.env,
    cwd: target.cwd,
    logger: options.logger,
    ...(options.onStderr && { onStderr: options.onStderr }),
  });
  const log = options.logger.child({ pid: proc.pid });
  let violation: string | undefined;
  let exit: string | undefined;
  const transport = new ChildStdioTransport(proc, {
    killGraceMs: options.killGraceMs,
    onProtocolError: (line) => {
      violation = `it wrote something that is not JSON-RPC to stdout: ${JSON.stringify(line.slice(0, 200))}`;
      log.warn({ line: line.slice(0, 200) }, 'protocol violation on stdout; ending the process');
      void proc.kill(options.killGraceMs);
    },
  });
  const closed = proc.exited.then(({ code, signal }) => {
    const stderr = proc.recentStderr().at(-1);
    exit = `the process exited ${signal ? `on ${signal}` : `with code ${code}`}${
      stderr ? ` (last stderr: ${stderr.slice(0, 300)})` : ''
    }`;
  });
  const client = routedClient({ ...options, logger: log });
  const protocolVersion = captureProtocolVersion(transport);
  try {
    await client.connect(transport, { timeout: options.connectTimeoutMs });
    keepNotificationsBeforeResponses(transport);
  } catch (e) {
    await proc.kill(options.killGraceMs);
    await closed;
    const why = violation ?? exit ?? (e instanceof Error ? e.message : String(e));
    throw new AppError('upstream', 'UPSTREAM.CONNECT_FAILED', `could not initialize: ${why}`, {
      pid: proc.pid,
    });
  }
  return {
    client,
    target: `pid ${proc.pid}`,
    pid: proc.pid,
    protocolVersion: protocolVersion(),
    subscriptions: new Set(),
    closed,
    closeReason: () => violation ?? exit,
    close: async (why = 'the server was stopped') => {
      violation ??= why;
      await client.close().catch(() => {});
      await proc.kill(options.killGraceMs);
    },
    abandon: (reason) => {
      violation ??= reason;
      void proc.kill(options.killGraceMs);
    },
  };
}

async function openHttp(
  options: ConnectOptions,
  target: Extract<InstanceTarget, { type: 'streamable-http' | 'sse' }>,
): Promise<Connection> {
  const url = new URL(target.url);
  // Judged as registered (a host written as a number is hiding something), then at each connection.
  const refused = options.egress.checkUrl(url, target.url);
  if (refused) throw refused;
  const egress = createEgressFetch(options.egress);
  const requestInit = { headers: target.headers };
  const streamable = target.type === 'streamable-http';
  // An upstream that serves 2026-07-28 is spoken to in that revision (modern-http.ts).
  const modern = streamable
    ? await discoverModern(
        url,
        { fetch: egress.fetch, headers: target.headers, clientInfo: options.clientInfo },
        // A server that does not answer the probe is asked to initialize next, in what time is left.
        Math.min(5_000, options.connectTimeoutMs / 2),
      )
    : undefined;
  const transport: Transport = modern
    ? new ModernHttpTransport(url, {
        fetch: egress.fetch,
        headers: target.headers,
        clientInfo: options.clientInfo,
        discover: modern,
        capabilitiesFor: () => callerCapabilities(options.router, relatedRequestKey()),
      })
    : streamable
      ? new StreamableHTTPClientTransport(url, {
          requestInit,
          fetch: egress.fetch,
          // The session belongs to this process; if its GET stream drops, a few quick retries, then
          // the next failing request tells us the session is gone.
          reconnectionOptions: {
            initialReconnectionDelay: 500,
            maxReconnectionDelay: 5_000,
            reconnectionDelayGrowFactor: 2,
            maxRetries: 3,
          },
        })
      : new SSEClientTransport(url, { requestInit, fetch: egress.fetch });
  // Messages on a request's own response stream go to exactly the call that sent it.
  if (streamable) attribute(transport, randomUUID(), (key) => options.router.bind(key));
  const log = options.logger.child({ url: redactUrl(url) });
  const client = routedClient({ ...options, logger: log });
  let reason: string | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  client.onclose = () => resolveClosed();
  void closed.then(() => egress.close());
  if (!streamable) {
    // The SSE stream is the session: once it errors, the endpoint we post to is no longer ours.
    client.onerror = (e) => {
      log.debug({ err: e.message }, 'client error');
      if (e.name === 'SseError' || e.constructor.name === 'SseError') {
        reason ??= egress.refusal()?.message ?? describeHttpFailure(e);
        void client.close();
      }
    };
  }
  const protocolVersion = captureProtocolVersion(transport);
  try {
    await client.connect(transport, { timeout: options.connectTimeoutMs });
    keepNotificationsBeforeResponses(transport);
  } catch (e) {
    await client.close().catch(() => {});
    await egress.close();
    const refusal = egress.refusal() ?? egressRefusalIn(e);
    if (refusal) throw refusal;
    const why = describeHttpFailure(e);
    throw new AppError(
      'upstream',
      'UPSTREAM.CONNECT_FAILED',
      `could not initialize ${redactUrl(url)}: ${why}`,
    );
  }
  let closing: Promise<void> | undefined;
  return {
    client,
    target: redactUrl(url),
    protocolVersion: modern ? MODERN_VERSION : protocolVersion(),
    subscriptions: new Set(),
    closed,
    closeReason: () => reason ?? 'the session was closed',
    close: (why = 'the server was stopped') => {
      reason ??= why;
      closing ??= (async () => {
        if (transport instanceof StreamableHTTPClientTransport) {
          // DELETE, so the server frees the session now rather than when it times out.
          await withTimeout(transport.terminateSession(), 5_000).catch((e: unknown) =>
            log.debug({ err: (e as Error).message }, 'could not terminate the session'),
          );
        }
        await client.close().catch(() => {});
      })();
      return closing;
    },
    abandon: (why) => {
      reason ??= why;
      void client.close().catch(() => {});
    },
  };
}

/** The URL without credentials or query (which may carry tokens), for logs and status. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
