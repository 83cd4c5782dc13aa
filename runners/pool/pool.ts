import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolResultSchema,
  type ClientCapabilities,
  type ClientRequest,
  GetPromptResultSchema,
  ReadResourceResultSchema,
  ResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { type Clock, systemClock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { inSpan, mcpTraceMeta, SpanKind } from '../../kernel/tracing.ts';
import { DEFAULT_EGRESS_POLICY, type EgressPolicy, egressGuard } from '../egress.ts';
import type { StderrLine } from '../runtime-views.port.ts';
import { stderrRedactor } from '../stderr-redaction.ts';
import type { CallOptions, ListChanged, UpstreamSpec, UpstreamStatus, Upstreams } from '../upstream.port.ts';
import type { CircuitBreakerOptions } from './circuit-breaker.ts';
import { type Connection, RELAY_CAPABILITIES } from './connection.ts';
import { listCatalog } from './discover.ts';
import { connectTimeChecks } from './egress-fetch.ts';
import { AttemptError } from './errors.ts';
import type { AttemptContext } from './instance.ts';
import { ResourceSubscriptions } from './resource-subscriptions.ts';
import type { RestartPolicyOptions } from './restart-policy.ts';
import { ServerEntry } from './server-entry.ts';
import { StderrLog } from './stderr-log.ts';

export interface UpstreamPoolOptions {
  logger: Logger;
  clock?: Clock;
  /**
   * The environment every stdio server starts from, under its own `env`. Default: PATH and HOME of
   * this process, nothing else — a runner's own secrets (database URLs, keys) must not leak.
   */
  env?: Record<string, string>;
  /** Restart backoff and crash-loop detection of stdio servers. */
  restart?: RestartPolicyOptions;
  circuitBreaker?: CircuitBreakerOptions;
  /** Between SIGTERM and SIGKILL when reaping a process tree (default 3 s). */
  killGraceMs?: number;
  /** How long a replaced configuration's calls may run on before its instances stop (default 30 s). */
  drainMs?: number;
  /** What we tell upstreams we can relay (default: sampling, elicitation, roots). */
  capabilities?: ClientCapabilities;
  clientInfo?: { name: string; version: string };
  /**
   * Where HTTP/SSE upstreams may connect, checked at every connection (default: public addresses
   * and loopback, nothing else internal — said in a log line at start). Throws on a bad entry.
   */
  egress?: EgressPolicy;
  /** Stderr lines kept per server, secrets taken out, for `stderr()` (default 500). */
  stderrLines?: number;
}

/** The local Upstreams, plus what only a process that holds the connections can do. */
export interface UpstreamPool extends Upstreams {
  /** Restarts every instance of a server now, also those parked in 'error' by a crash loop. */
  restart(serverId: string): Promise<void>;
  /**
   * The server's recent stderr (its stdio processes', over restarts and reconfigurations), oldest
   * first: lines after `afterSeq`, at most the last `limit`. Values of the server's environment and
   * token shapes are redacted before a line is kept. Empty for a server not hosted here.
   */
  stderr(serverId: string, options?: { afterSeq?: number; limit?: number }): StderrLine[];
}

/** The default base environment of stdio servers: PATH and HOME of this process. */
export function defaultServerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

interface ExecuteOptions extends CallOptions {
  operation: string;
  /** Runs on the caller's own upstream session where the transport allows (AttemptOptions). */
  ownSession?: boolean;
  /** The pool's own request, no client's (AttemptOptions). */
  internal?: boolean;
  /** Safe to repeat after a connection died mid-request (reads); a tool call is not. */
  idempotent: boolean;
}

/**
 * The runner's pool of upstream connections: per server, one or more instances (a shared stdio
 * process each, or one HTTP/SSE session each), chosen per call by the server's load-balancing
 * strategy, skipping instances that are down or whose circuit is open. A request that could not
 * be delivered is retried once on another instance (reads also after a connection died mid-way).
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ module: 'runners.pool' });
  const baseEnv = options.env ?? defaultServerEnv();
  const egress = egressGuard(options.egress ?? DEFAULT_EGRESS_POLICY);
  logger.info(
    { egress: egress.policy },
    `egress policy${options.egress ? '' : ' (default, none configured)'}: ${egress.describe()}`,
  );
  void connectTimeChecks().then((ok) => {
    if (!ok) {
      logger.warn(
        'the global fetch dispatcher was replaced: HTTP upstream host names are checked just before each request, not at connect',
      );
    }
  });
  const servers = new Map<string, ServerEntry>();
  const retiring = new Set<Promise<void>>();
  const listeners = new Set<(change: ListChanged) => void>();
  const updateListeners = new Set<(serverId: string, uri: string) => void>();
  const subscriptions = new ResourceSubscriptions();
  const locks = new Map<string, Promise<unknown>>();
  let closed = false;
  /** Per hosted server, from its ensure() to its stop(): its last stderr lines. */
  const stderrLogs = new Map<string, StderrLog>();
  const redactors = new WeakMap<UpstreamSpec, (line: string) => string>();
  let stderrSeq = 0;
  const redactorFor = (spec: UpstreamSpec) => {
    let r = redactors.get(spec);
    if (!r) {
      r = stderrRedactor(spec.transport.type === 'stdio' ? Object.values(spec.transport.env) : []);
      redactors.set(spec, r);
    }
    return r;
  };

  const entryDeps = {
    clock,
    logger,
    baseEnv,
    restart: options.restart ?? {},
    circuitBreaker: options.circuitBreaker ?? {},
    killGraceMs: options.killGraceMs ?? 3_000,
    capabilities: options.capabilities ?? RELAY_CAPABILITIES,
    clientInfo: options.clientInfo ?? { name: 'switchyard', version: '0.1.0' },
    egress,
    onListChanged: (change: ListChanged) => {
      for (const l of listeners) {
        try {
          l(change);
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'list_changed listener failed');
        }
      }
    },
    onResourceUpdated: (serverId: string, uri: string) => {
      // A late notification for a URI nobody wants any more goes nowhere.
      if (!subscriptions.has(serverId, uri)) return;
      for (const l of updateListeners) {
        try {
          l(serverId, uri);
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'resources/updated listener failed');
        }
      }
    },
    onStderr: (spec: UpstreamSpec, instance: number, line: string, pid: number) => {
      stderrLogs.get(spec.serverId)?.push({
        seq: ++stderrSeq,
        at: clock.now().toISOString(),
        instance,
        pid,
        line: redactorFor(spec)(line),
      });
    },
    // A restarted process (or a new HTTP session) knows nothing of our subscriptions: renew them.
    onConnected: (spec: UpstreamSpec, connection: Connection) => {
      for (const uri of subscriptions.uris(spec.serverId)) {
        subscribeOn(connection, uri, { uri }, { timeout: spec.callTimeoutMs }).catch((e: unknown) =>
          logger.warn(
            { serverId: spec.serverId, uri, err: (e as Error).message },
            'could not renew a resource subscription',
          ),
        );
      }
    },
  };

  /** resources/subscribe on one upstream session, unless it has the URI already. */
  async function subscribeOn(
    connection: Connection,
    uri: string,
    params: Record<string, unknown>,
    request: RequestOptions,
  ): Promise<Record<string, unknown>> {
    if (connection.subscriptions.has(uri)) return {};
    // Marked before sending, so an unsubscribe meanwhile follows it on the same session.
    connection.subscriptions.add(uri);
    try {
      return (await connection.client.request(
        { method: 'resources/subscribe', params: params as { uri: string } },
        ResultSchema.loose(),
        request,
      )) as Record<string, unknown>;
    } catch (e) {
      connection.subscriptions.delete(uri);
      throw e;
    }
  }

  /**
   * The first caller of a URI: one instance answers (with the usual choice, waiting and retry, so
   * the caller hears the upstream's refusal), then every other instance that is up subscribes too —
   * an update may happen on any of them. Instances down now subscribe when they connect.
   */
  async function subscribeFirst(
    serverId: string,
    uri: string,
    params: Record<string, unknown>,
    callOptions: CallOptions,
  ): Promise<Record<string, unknown>> {
    const result = await execute(
      serverId,
      // Made once for every caller of the URI, on the shared session where updates are heard.
      {
        ...callOptions,
        operation: `resources/subscribe ${uri.slice(0, 200)}`,
        idempotent: true,
        internal: true,
      },
      ({ connection, request }) => subscribeOn(connection, uri, params, request),
    );
    const entry = servers.get(serverId);
    const timeout = entry?.spec.callTimeoutMs;
    await Promise.all(
      (entry?.instances ?? []).map(async (instance) => {
        const session = instance.session;
        if (!session) return;
        await subscribeOn(session, uri, { uri }, { timeout }).catch((e: unknown) =>
          logger.warn(
            { serverId, instance: instance.index, uri, err: (e as Error).message },
            'an instance refused a resource subscription',
          ),
        );
      }),
    );
    return result;
  }

  /** The last caller of a URI left: every session that has it unsubscribes. */
  async function unsubscribeAll(serverId: string, uri: string): Promise<void> {
    const entry = servers.get(serverId);
    const timeout = entry?.spec.callTimeoutMs;
    await Promise.all(
      (entry?.instances ?? []).map(async (instance) => {
        const session = instance.session;
        if (!session?.subscriptions.delete(uri)) return;
        await session.client
          .request({ method: 'resources/unsubscribe', params: { uri } }, ResultSchema.loose(), { timeout })
          .catch((e: unknown) =>
            logger.warn(
              { serverId, instance: instance.index, uri, err: (e as Error).message },
              'an instance refused a resource unsubscribe',
            ),
          );
      }),
    );
  }

  /** ensure/stop/restart of one server run one at a time, in call order. */
  function serialized<T>(serverId: string, run: () => Promise<T>): Promise<T> {
    const previous = locks.get(serverId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(run);
    locks.set(serverId, next);
    void next
      .catch(() => {})
      .finally(() => {
        if (locks.get(serverId) === next) locks.delete(serverId);
      });
    return next;
  }

  function retire(entry: ServerEntry): void {
    const p = entry
      .drainAndStop(options.drainMs ?? 30_000)
      .catch((e: unknown) =>
        logger.warn(
          { err: (e as Error).message, serverId: entry.spec.serverId },
          'retiring instances failed',
        ),
      );
    retiring.add(p);
    void p.finally(() => retiring.delete(p));
  }

  async function replace(spec: UpstreamSpec): Promise<void> {
    const previous = servers.get(spec.serverId);
    const entry = new ServerEntry(spec, entryDeps);
    // Start the new instances before swapping, so calls keep flowing to the old ones meanwhile.
    await entry.start();
    if (closed) {
      await entry.stop();
      return;
    }
    servers.set(spec.serverId, entry);
    if (previous) retire(previous);
  }

  function entryFor(serverId: string): ServerEntry {
    const entry = servers.get(serverId);
    if (!entry) {
      throw new AppError('not_found', 'UPSTREAM.UNKNOWN_SERVER', `server ${serverId} is not running here`, {
        serverId,
      });
    }
    return entry;
  }

  async function execute<T>(
    serverId: string,
    execute: ExecuteOptions,
    run: (context: AttemptContext) => Promise<T>,
  ): Promise<T> {
    let entry = entryFor(serverId);
    const timeoutMs = execute.timeoutMs ?? entry.spec.callTimeoutMs;
    // A call arriving while instances (re)start waits for one, as long as a connect may take (and
    // no longer than the call itself may: a 5 s health ping must not wait 10 s for a restart).
    const waitUntil = Date.now() + Math.min(entry.spec.connectTimeoutMs, timeoutMs);
    const tried = new Set<number>();
    let last: AttemptError | undefined;
    for (let attempts = 0; attempts < 2; ) {
      if (execute.signal?.aborted) {
        throw new AppError(
          'timeout',
          'UPSTREAM.CANCELLED',
          `${execute.operation} was cancelled by the caller`,
        );
      }
      // The configuration may have been replaced while we waited: always use the current one.
      entry = servers.get(serverId) ?? entry;
      const pick = entry.pick(tried);
      if (!pick) {
        const remaining = waitUntil - Date.now();
        if (entry.recovering && remaining > 0) {
          await entry.changed(remaining, execute.signal);
          continue;
        }
        throw last?.error ?? entry.noInstanceError();
      }
      try {
        return await pick.attempt({ ...execute, timeoutMs }, run);
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e;
        last = e;
        const again = e.retryable || (execute.idempotent && e.failure === 'lost');
        if (!again) throw e.error;
        logger.info({ serverId, instance: pick.index, err: e.error.message }, 'retrying on another instance');
        tried.add(pick.index);
        attempts++;
      }
    }
    throw last!.error;
  }

  return {
    async ensure(spec) {
      if (closed) throw new AppError('unavailable', 'UPSTREAM.POOL_CLOSED', 'the upstream pool is closed');
      validateSpec(spec);
      if (!stderrLogs.has(spec.serverId))
        stderrLogs.set(spec.serverId, new StderrLog(options.stderrLines ?? 500));
      await serialized(spec.serverId, async () => {
        const existing = servers.get(spec.serverId);
        if (existing && spec.revision <= existing.spec.revision) return;
        if (existing?.sameInstancesAs(spec)) {
          // Only settings calls read changed (strategy, weights, call timeout): no restart, but a
          // new revision is also the signal to retry instances parked by a crash loop.
          existing.update(spec);
          await existing.reviveFailed();
          return;
        }
        await replace(spec);
      });
    },

    stop(serverId) {
      return serialized(serverId, async () => {
        const entry = servers.get(serverId);
        stderrLogs.delete(serverId);
        if (!entry) return;
        servers.delete(serverId);
        await entry.stop();
      });
    },

    restart(serverId) {
      return serialized(serverId, async () => {
        const entry = entryFor(serverId);
        await entry.stop();
        servers.delete(serverId);
        await replace(entry.spec);
      });
    },

    discover(serverId, discoverOptions = {}) {
      return execute(
        serverId,
        {
          operation: 'discovery',
          idempotent: true,
          internal: true,
          signal: discoverOptions.signal,
          timeoutMs: discoverOptions.timeoutMs,
        },
        ({ client, connection, request }) => listCatalog(client, connection, request),
      );
    },

    callTool(serverId, tool, args, callOptions = {}) {
      // The upstream's request is a span of its own; its `_meta.traceparent` lets a traced upstream
      // continue the trace (as MCP's OpenTelemetry conventions have it).
      return inSpan(
        `tools/call ${tool}`,
        { kind: SpanKind.CLIENT, attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool } },
        () =>
          execute(
            serverId,
            { ...callOptions, operation: `tools/call ${tool}`, idempotent: false, ownSession: true },
            ({ client, request }) =>
              client.request(
                { method: 'tools/call', params: { name: tool, arguments: args, ...mcpTraceMeta() } },
                CallToolResultSchema,
                request,
              ),
          ),
      );
    },

    readResource(serverId, uri, callOptions = {}) {
      return execute(
        serverId,
        {
          ...callOptions,
          operation: `resources/read ${uri.slice(0, 200)}`,
          idempotent: true,
          ownSession: true,
        },
        ({ client, request }) =>
          client.request({ method: 'resources/read', params: { uri } }, ReadResourceResultSchema, request),
      );
    },

    getPrompt(serverId, prompt, args, callOptions = {}) {
      return execute(
        serverId,
        { ...callOptions, operation: `prompts/get ${prompt}`, idempotent: true, ownSession: true },
        ({ client, request }) =>
          client.request(
            { method: 'prompts/get', params: { name: prompt, arguments: args } },
            GetPromptResultSchema,
            request,
          ),
      );
    },

    request(serverId, method, params, callOptions = {}) {
      const uri = params?.uri;
      // Requests without a caller count as one caller.
      const caller = callOptions.caller ?? '';
      if (method === 'resources/subscribe' && typeof uri === 'string') {
        return subscriptions.subscribe(serverId, uri, caller, () =>
          subscribeFirst(serverId, uri, params ?? { uri }, callOptions),
        );
      }
      if (method === 'resources/unsubscribe' && typeof uri === 'string') {
        return subscriptions
          .unsubscribe(serverId, uri, caller, () => unsubscribeAll(serverId, uri))
          .then(() => ({}));
      }
      // Like a call, a client's other requests (completion/complete…) run where what the upstream
      // sends meanwhile can only be that client's: on its own session when another client's call
      // is on the shared one.
      return execute(
        serverId,
        { ...callOptions, operation: method, idempotent: true, ownSession: true },
        ({ client, request }) =>
          client.request(
            { method, ...(params === undefined ? {} : { params }) } as ClientRequest,
            ResultSchema.loose(),
            request,
          ) as Promise<Record<string, unknown>>,
      );
    },

    ping(serverId, pingOptions = {}) {
      return execute(
        serverId,
        { operation: 'ping', idempotent: true, internal: true, timeoutMs: pingOptions.timeoutMs },
        async ({ client, request }) => {
          const started = performance.now();
          await client.ping(request);
          return performance.now() - started;
        },
      );
    },

    stderr(serverId, stderrOptions = {}) {
      return stderrLogs.get(serverId)?.read(stderrOptions.afterSeq, stderrOptions.limit) ?? [];
    },

    status(serverId): UpstreamStatus[] {
      const entries =
        serverId === undefined
          ? [...servers.values()]
          : [servers.get(serverId)].filter((e) => e !== undefined);
      return entries.map((e) => e.status());
    },

    onListChanged(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    onResourceUpdated(listener) {
      updateListeners.add(listener);
      return () => {
        updateListeners.delete(listener);
      };
    },

    async close() {
      closed = true;
      await Promise.allSettled([...locks.values()]);
      const all = [...servers.values()];
      servers.clear();
      stderrLogs.clear();
      await Promise.allSettled(all.map((e) => e.stop()));
      await Promise.allSettled([...retiring]);
      listeners.clear();
      updateListeners.clear();
      subscriptions.clear();
    },
  };
}

function validateSpec(spec: UpstreamSpec): void {
  const problems: string[] = [];
  if (!Number.isInteger(spec.replicas) || spec.replicas < 1 || spec.replicas > 64) {
    problems.push('replicas must be an integer from 1 to 64');
  }
  if (!(spec.connectTimeoutMs > 0)) problems.push('connectTimeoutMs must be positive');
  if (!(spec.callTimeoutMs > 0)) problems.push('callTimeoutMs must be positive');
  if (spec.weights.some((w) => !(w >= 0))) problems.push('weights must be zero or more');
  if (spec.transport.type === 'stdio' && spec.extraUrls.length > 0)
    problems.push('extraUrls need an HTTP transport');
  for (const url of spec.transport.type === 'stdio' ? [] : [spec.transport.url, ...spec.extraUrls]) {
    if (!URL.canParse(url)) problems.push(`not a URL: ${url.slice(0, 100)}`);
  }
  if (problems.length > 0) {
    throw new AppError('validation', 'UPSTREAM.BAD_SPEC', `server ${spec.name}: ${problems.join('; ')}`, {
      problems,
    });
  }
}
