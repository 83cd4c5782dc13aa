import { setMaxListeners } from 'node:events';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { OPERATION_OVER } from '../../kernel/async.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EgressGuard } from '../egress.ts';
import type { ClientSideHandlers, InstanceState, InstanceStatus, ListChanged } from '../upstream.port.ts';
import { CallRouter } from './call-router.ts';
import { CallerSessions } from './caller-sessions.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { type Connection, type ConnectOptions, type InstanceTarget, openConnection } from './connection.ts';
import { AttemptError, toAttemptError } from './errors.ts';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.ts';

/** How long the list changes an instance's sessions announce together are gathered into one. */
const LIST_CHANGES_COALESCE_MS = 25;

export interface InstanceOptions {
  serverId: string;
  serverName: string;
  index: number;
  target: InstanceTarget;
  weight: number;
  /** stdio / sse: upstream sessions of their own for callers, at most (CallerSessions). */
  clientSessions: number;
  connectTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  restart: RestartPolicyOptions;
  circuitBreaker: CircuitBreakerOptions;
  killGraceMs: number;
  capabilities: ClientCapabilities;
  clientInfo: { name: string; version: string };
  egress: EgressGuard;
  onListChanged: (kind: ListChanged['kind']) => void;
  onResourceUpdated: (uri: string) => void;
  /** A new session is up (first start or restart): the pool subscribes it to what callers want. */
  onConnected: (connection: Connection) => void;
  /** Called on every state change, so callers waiting for an instance can look again. */
  onChange: () => void;
  /** A stdio process of this instance wrote a line to stderr. */
  onStderr?: (line: string, pid: number) => void;
}

/** What an operation gets: the session, request options to pass on, and the connection's facts. */
export interface AttemptContext {
  client: Client;
  connection: Connection;
  request: RequestOptions;
}

export interface AttemptOptions extends ClientSideHandlers {
  /** e.g. `tools/call echo`, for messages. */
  operation: string;
  /**
   * What the upstream sends while this request runs must reach its caller (any request a client
   * makes): over stdio and HTTP+SSE it runs where that is so (sessionOf, CallerSessions).
   */
  ownSession?: boolean;
  /**
   * The pool's own request (discovery, a health ping, the shared resource subscription): it runs on
   * the shared session and makes no caller's message there ambiguous (CallRouter.route).
   */
  internal?: boolean;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

type Phase = 'starting' | 'connected' | 'backoff' | 'error' | 'stopped';

/**
 * One instance of a server — a stdio process or an HTTP/SSE session — and its supervisor. The
 * session is opened once and shared by every call. When it dies unexpectedly it is reopened after
 * an exponential backoff; a stdio server that keeps dying (RestartPolicy) is parked in 'error'
 * until `revive()`. HTTP upstreams are never parked: a remote server being down for a while is
 * expected, so they keep retrying, at most every `maxDelayMs`.
 */
export class UpstreamInstance {
  readonly index: number;
  readonly weight: number;
  readonly breaker: CircuitBreaker;
  private readonly router = new CallRouter();
  /** stdio / sse: a session per caller besides the shared one (see CallerSessions). */
  private readonly callers: CallerSessions | undefined;
  private readonly policy: RestartPolicy;
  private readonly log: Logger;
  private phase: Phase = 'starting';
  private connection: Connection | undefined;
  private readonly changes = new Map<ListChanged['kind'], NodeJS.Timeout>();
  private connecting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private lastError: string | undefined;
  private startedAt: Date | undefined;
  private lastExit: { at: string; reason: string } | undefined;

  constructor(private readonly options: InstanceOptions) {
    this.index = options.index;
    this.weight = options.weight;
    this.breaker = new CircuitBreaker(options.clock, options.circuitBreaker);
    const stdio = options.target.type === 'stdio';
    this.policy = new RestartPolicy(options.clock, {
      ...options.restart,
      ...(stdio ? {} : { maxCrashes: Number.POSITIVE_INFINITY }),
    });
    this.log = options.logger.child({ instance: options.index });
    if (options.target.type !== 'streamable-http' && options.clientSessions > 0) {
      this.callers = new CallerSessions({
        max: options.clientSessions,
        // Resource updates come on the shared session, where the pool subscribes. A list change may
        // be announced on the session where it happened only: heard on any, told once (listChanged).
        open: (router) =>
          openConnection({ ...this.connectOptions(router), onResourceUpdated: () => undefined }),
        logger: this.log,
      });
    }
  }

  /** Opens the session; resolves after the first attempt, whatever its outcome (see status()). */
  start(): Promise<void> {
    return this.connect();
  }

  /** Out of 'error' (or a backoff): forget past crashes and reconnect now. */
  async revive(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.policy.reset();
    this.breaker.reset();
    if (this.phase === 'connected' || this.phase === 'starting') return;
    clearTimeout(this.timer);
    await this.connect();
  }

  /** Closes the session and reaps the process tree; no restart follows. */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    clearTimeout(this.timer);
    const connection = this.connection;
    this.connection = undefined;
    this.options.onChange();
    await this.connecting;
    await Promise.all([connection?.close(), this.callers?.closeAll()]);
  }

  /** Waits for the calls in flight (at most `maxMs`), then stops. For replacing a configuration. */
  async drainAndStop(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await this.stop();
  }

  get inFlight(): number {
    return this.router.size + (this.callers?.inFlight ?? 0);
  }

  get state(): InstanceState {
    switch (this.phase) {
      case 'connected':
        return this.breaker.state === 'closed' ? 'healthy' : 'unhealthy';
      case 'starting':
        return 'starting';
      case 'backoff':
        // A stdio server between crash and restart is on its way back; an unreachable URL is down.
        return this.options.target.type === 'stdio' ? 'starting' : 'unhealthy';
      case 'error':
        return 'error';
      case 'stopped':
        return 'stopped';
      default: {
        const _: never = this.phase;
        return _;
      }
    }
  }

  /** The session, while connected (also with an open circuit: subscriptions are not calls). */
  get session(): Connection | undefined {
    return this.phase === 'connected' ? this.connection : undefined;
  }

  /** Could take a call right now. */
  get available(): boolean {
    return this.phase === 'connected' && this.breaker.canPass();
  }

  /** Is, or will soon be, back: worth waiting for when nothing is available. */
  get recovering(): boolean {
    return this.phase === 'starting' || this.phase === 'backoff';
  }

  status(): InstanceStatus {
    return {
      index: this.index,
      target: this.connection?.target ?? describeTarget(this.options.target),
      state: this.state,
      inFlight: this.inFlight,
      restarts: this.restarts,
      circuit: this.breaker.state,
      lastError: this.lastError,
      pid: this.session?.pid,
      startedAt: this.session ? this.startedAt?.toISOString() : undefined,
      lastExit: this.lastExit,
      ...(this.callers && { callerSessions: this.callers.size }),
    };
  }

  /**
   * Runs one request on this instance's session. Throws AttemptError: the AppError for the caller
   * plus whether the attempt may be retried elsewhere.
   */
  async attempt<T>(options: AttemptOptions, run: (context: AttemptContext) => Promise<T>): Promise<T> {
    const connection = this.connection;
    if (this.phase !== 'connected' || !connection) {
      throw new AttemptError(
        new AppError(
          'unavailable',
          'UPSTREAM.INSTANCE_NOT_READY',
          `instance #${this.index} is ${this.state}`,
        ),
        'not-delivered',
      );
    }
    if (!this.breaker.tryPass()) {
      throw new AttemptError(
        new AppError('unavailable', 'UPSTREAM.CIRCUIT_OPEN', `instance #${this.index}: circuit open`),
        'not-delivered',
      );
    }
    const own =
      options.ownSession && options.caller !== undefined ? this.sessionOf(options.caller) : undefined;
    // The shared session is checked (sessionOf) and entered below with no await between, so two
    // callers never both take it for free.
    const session = own ? await this.callerSession(own.connection) : connection;
    const router = own?.router ?? this.router;
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    // Discovery sends one request per page on this signal, all at once for a large catalog.
    setMaxListeners(0, signal);
    const call = router.enter(options, signal, options.internal === true);
    try {
      const result = await router.run(call.context, () =>
        run({
          client: session.client,
          connection: session,
          request: {
            signal: options.signal,
            timeout: options.timeoutMs,
            // A call that reports progress is alive: its timeout starts over with each report.
            resetTimeoutOnProgress: true,
            // Always asked for, so that the upstream sends progress and the timeout can reset.
            onprogress: (p) =>
              options.onProgress?.({ progress: p.progress, total: p.total, message: p.message }),
          },
        }),
      );
      this.breaker.success();
      return result;
    } catch (e) {
      const failure = toAttemptError(e, options.signal, {
        serverName: this.options.serverName,
        instance: this.index,
        operation: options.operation,
        timeoutMs: options.timeoutMs,
        closeReason: session.closeReason(),
      });
      if (failure.instanceFault) this.breaker.failure();
      else this.breaker.release();
      // An HTTP session that failed to carry a request is suspect: open a fresh one. (A stdio
      // session's failures show up as the process exiting, handled by watch().)
      if (failure.failure === 'not-delivered' && this.options.target.type !== 'stdio') {
        if (own && options.caller !== undefined) this.callers?.abandon(options.caller, failure.error.message);
        else connection.abandon(failure.error.message);
      }
      this.lastError = failure.error.message;
      throw failure;
    } finally {
      controller.abort(OPERATION_OVER);
      call.leave();
      if (own && options.oneShot && options.caller !== undefined) this.callers?.done(options.caller);
      this.options.onChange();
    }
  }

  /**
   * Where a caller's call runs (stdio, HTTP+SSE with `clientSessions`): on its own session if it has
   * one; on the shared session while that carries no other caller's call (what the upstream sends
   * meanwhile can then only be this caller's, and one client costs no process of its own); on a
   * session of its own otherwise (undefined: the shared one, past the cap).
   */
  private sessionOf(caller: string): { router: CallRouter; connection: Promise<Connection> } | undefined {
    const callers = this.callers;
    if (!callers || (!callers.has(caller) && this.router.onlyCallsOf(caller))) return undefined;
    return callers.get(caller);
  }

  private connectOptions(router: CallRouter): ConnectOptions {
    return {
      target: this.options.target,
      router,
      capabilities: this.options.capabilities,
      clientInfo: this.options.clientInfo,
      egress: this.options.egress,
      connectTimeoutMs: this.options.connectTimeoutMs,
      killGraceMs: this.options.killGraceMs,
      logger: this.log,
      onListChanged: (kind) => this.listChanged(kind),
      onResourceUpdated: this.options.onResourceUpdated,
      ...(this.options.onStderr && { onStderr: this.options.onStderr }),
    };
  }

  /**
   * A list change, told once however many of the instance's sessions announce it together (an
   * upstream that tells every session would otherwise ask for as many discoveries).
   */
  private listChanged(kind: ListChanged['kind']): void {
    if (this.changes.has(kind)) return;
    const timer = setTimeout(() => {
      this.changes.delete(kind);
      this.options.onListChanged(kind);
    }, LIST_CHANGES_COALESCE_MS);
    timer.unref();
    this.changes.set(kind, timer);
  }

  /** A caller's own session, once open; one that cannot be opened fails the attempt undelivered. */
  private async callerSession(opening: Promise<Connection>): Promise<Connection> {
    try {
      return await opening;
    } catch (e) {
      this.breaker.failure();
      const error =
        e instanceof AppError
          ? e
          : new AppError('upstream', 'UPSTREAM.CONNECT_FAILED', e instanceof Error ? e.message : String(e));
      this.lastError = error.message;
      throw new AttemptError(error, 'not-delivered');
    }
  }

  private connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.phase = 'starting';
    this.options.onChange();
    const attempt = (async () => {
      try {
        const connection = await openConnection(this.connectOptions(this.router));
        if (this.phase === 'stopped') {
          await connection.close();
          return;
        }
        this.connection = connection;
        this.phase = 'connected';
        this.startedAt = this.options.clock.now();
        // Failures counted against the previous session say nothing about this one.
        this.breaker.reset();
        this.log.info({ target: connection.target, restarts: this.restarts }, 'upstream instance connected');
        this.options.onConnected(connection);
        // Over HTTP+SSE a session is cheap: one is kept ready from the start. A stdio process is
        // not: the first is started when callers first contend (CallerSessions.get warms the next).
        if (this.options.target.type === 'sse') this.callers?.warm();
        void connection.closed.then(() => this.lost(connection));
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        this.lastExit = { at: this.options.clock.now().toISOString(), reason: this.lastError };
        this.log.warn({ err: this.lastError }, 'upstream instance failed to start');
        this.crashed();
      } finally {
        this.connecting = undefined;
        this.options.onChange();
      }
    })();
    this.connecting = attempt;
    return attempt;
  }

  /** The session ended; unless we ended it, that is a crash. */
  private lost(connection: Connection): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.lastError = connection.closeReason() ?? 'the session ended';
    this.lastExit = { at: this.options.clock.now().toISOString(), reason: this.lastError };
    this.log.warn({ reason: this.lastError }, 'upstream instance went away');
    this.crashed();
    this.options.onChange();
  }

  private crashed(): void {
    if (this.phase === 'stopped') return;
    const next = this.policy.crashed();
    if (next.giveUp) {
      this.phase = 'error';
      const window = Math.round(this.policy.windowMs / 1000);
      this.lastError = `crash loop: ${this.policy.recentCrashes} failures within ${window} s, not restarted until reconfigured or restarted; last: ${this.lastError ?? 'unknown'}`;
      this.log.error({ err: this.lastError }, 'upstream instance is crash-looping');
      return;
    }
    this.phase = 'backoff';
    this.timer = setTimeout(() => {
      if (this.phase !== 'backoff') return;
      this.restarts++;
      void this.connect();
    }, next.delayMs);
    // A pending restart must not keep a finished process alive.
    this.timer.unref();
  }
}

function describeTarget(target: InstanceTarget): string {
  if (target.type === 'stdio') return target.command;
  try {
    const url = new URL(target.url);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return target.type;
  }
}
