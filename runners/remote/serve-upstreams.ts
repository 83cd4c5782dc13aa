import { randomUUID } from 'node:crypto';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Bus, Closeable, SubjectMessage } from '../../bus/bus.port.ts';
import { errorToWire } from '../../bus/wire.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CallOptions, Upstreams } from '../upstream.port.ts';
import {
  ALL_CANCELS,
  ALL_SUBSCRIPTIONS,
  askSubject,
  type CallOutcome,
  changedSubject,
  type ExecRequest,
  execQueue,
  execRequestSchema,
  execSubject,
  INLINE_OUTCOME_MS,
  type ReplyChannel,
  type RunnerStatus,
  replySubject,
  statusSubject,
  subscriptionChangeSchema,
  updatedSubject,
} from './exec-protocol.ts';

type CallRequest = Extract<ExecRequest, { op: 'call' }>;

export interface ServeUpstreamsOptions {
  bus: Bus;
  upstreams: Upstreams;
  logger: Logger;
  /** Servers to take calls for from the start; more with serve(). */
  serverIds?: readonly string[];
  /** Names this runner in status messages (letters, digits, '_' and '-'). Default: a random id. */
  runnerId?: string;
  /** Heartbeat of a running call (default 2 s); a gateway gives up after three missed. */
  heartbeatMs?: number;
  /** How often the status of the hosted servers is published (default 5 s). */
  statusIntervalMs?: number;
  /** Longest wait for the caller to answer sampling or elicitation (default 10 minutes). */
  clientRequestTimeoutMs?: number;
  /** On close, how long calls in flight may take to finish (default 30 s). */
  drainMs?: number;
  /** How long the answer to a call waits for its outcome before saying "accepted" (default 250 ms). */
  inlineOutcomeMs?: number;
}

/** The runner side of remote execution. */
export interface UpstreamsServer {
  readonly runnerId: string;
  /** Starts taking calls for a server (as one member of its queue group). Idempotent. */
  serve(serverId: string): Promise<void>;
  /** Stops taking new calls for a server; calls already accepted run to their end. */
  unserve(serverId: string): Promise<void>;
  /** Server ids this runner takes calls for. */
  served(): string[];
  /** Calls accepted and not finished yet. */
  inFlight(): number;
  /** Stops taking calls, lets those in flight finish (up to drainMs), says goodbye in status. */
  close(): Promise<void>;
}

/**
 * Takes calls for the servers this runner hosts from `<prefix>.exec.<serverId>` (queue group
 * `runners-<serverId>`: each call goes to one runner) and runs them on the local `upstreams`.
 * A call that ends within `inlineOutcomeMs` is answered with its outcome; a longer one is answered
 * "accepted" and its outcome published to the calling gateway later (exec-protocol.ts).
 * Progress, logs and heartbeats go to the calling gateway's reply subjects; sampling, elicitation and roots
 * requests of the upstream are relayed to the calling gateway and their answers brought back.
 * Resource subscriptions of callers arrive on `exec.subscriptions.<serverId>` (every runner hosting
 * the server follows them) and the upstreams' resources/updated go out on `exec.updated.<serverId>`.
 */
export async function serveUpstreams(options: ServeUpstreamsOptions): Promise<UpstreamsServer> {
  const { bus, upstreams } = options;
  const runnerId = options.runnerId ?? `runner-${randomUUID().slice(0, 8)}`;
  const log = options.logger.child({ module: 'runners.exec', runnerId });
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const clientTimeoutMs = options.clientRequestTimeoutMs ?? 600_000;
  const inlineOutcomeMs = options.inlineOutcomeMs ?? INLINE_OUTCOME_MS;
  const subscriptions = new Map<string, Promise<Closeable>>();
  const running = new Set<Promise<unknown>>();
  /** Calls running here, by call id, for their cancel. */
  const cancels = new Map<string, AbortController>();
  let closed = false;

  const publish = (call: CallRequest, channel: ReplyChannel, payload: unknown) =>
    bus.publishSubject(replySubject(call.gatewayId, call.callId, channel), payload).catch((e: unknown) => {
      log.warn(
        { callId: call.callId, channel, err: (e as Error).message },
        'could not publish to the caller',
      );
    });

  async function publishStatus(leaving = false): Promise<void> {
    const served = new Set(subscriptions.keys());
    const status: RunnerStatus = {
      runnerId,
      servers: leaving ? [] : upstreams.status().filter((s) => served.has(s.serverId)),
    };
    await bus.publishSubject(statusSubject(runnerId), status).catch(() => {});
  }

  const stopListChanged = upstreams.onListChanged((change) => {
    if (subscriptions.has(change.serverId)) void bus.publishSubject(changedSubject(change.serverId), change);
  });
  const stopUpdates = upstreams.onResourceUpdated((serverId, uri) => {
    if (subscriptions.has(serverId)) void bus.publishSubject(updatedSubject(serverId), { serverId, uri });
  });
  const subscriptionChanges = await bus.subscribeSubject({
    subject: ALL_SUBSCRIPTIONS,
    handler: (m) => {
      const parsed = subscriptionChangeSchema.safeParse(m.payload);
      if (!parsed.success || !subscriptions.has(parsed.data.serverId)) return;
      const { serverId, uri, subscribed, caller } = parsed.data;
      // The pool counts per caller: the runner that took the subscribe call already has this one.
      void upstreams
        .request(
          serverId,
          subscribed ? 'resources/subscribe' : 'resources/unsubscribe',
          { uri },
          caller !== undefined ? { caller } : {},
        )
        .catch((e: unknown) =>
          log.warn(
            { serverId, uri, subscribed, err: (e as Error).message },
            'could not follow a resource subscription',
          ),
        );
    },
  });
  // One listener for the cancels of every call, opened before any call is accepted.
  const cancelled = await bus.subscribeSubject({
    subject: ALL_CANCELS,
    handler: (m) => cancels.get(m.subject.split('.')[2] ?? '')?.abort(),
  });
  const statusTimer = setInterval(() => void publishStatus(), options.statusIntervalMs ?? 5_000);
  statusTimer.unref();

  /** Relays a server-initiated request to the gateway of the call and checks its answer. */
  async function askCaller<T>(
    call: CallRequest,
    request: { method: string; params?: unknown },
    parse: (v: unknown) => T,
    signal: AbortSignal,
  ): Promise<T> {
    const reply = await bus.requestSubject(askSubject(call.gatewayId, call.callId), request, {
      timeoutMs: clientTimeoutMs,
      signal,
    });
    return parse(reply);
  }

  function callOptions(request: CallRequest, signal: AbortSignal): CallOptions {
    const { relay } = request;
    return {
      signal,
      ...(request.caller !== undefined ? { caller: request.caller } : {}),
      ...(request.oneShot ? { oneShot: true } : {}),
      ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
      ...(relay.progress ? { onProgress: (p) => void publish(request, 'progress', p) } : {}),
      ...(relay.log ? { onLog: (p) => void publish(request, 'log', p) } : {}),
      ...(relay.createMessage
        ? {
            createMessage: (params, s) =>
              askCaller(
                request,
                { method: 'sampling/createMessage', params },
                (v) => CreateMessageResultSchema.parse(v),
                s,
              ),
          }
        : {}),
      ...(relay.elicit
        ? {
            elicit: (params, s) =>
              askCaller(
                request,
                { method: 'elicitation/create', params },
                (v) => ElicitResultSchema.parse(v),
                s,
              ),
          }
        : {}),
      ...(relay.listRoots
        ? {
            listRoots: (s) =>
              askCaller(request, { method: 'roots/list' }, (v) => ListRootsResultSchema.parse(v), s),
          }
        : {}),
    };
  }

  /** Runs an accepted call to its end; never throws. */
  async function runCall(
    serverId: string,
    request: CallRequest,
    controller: AbortController,
  ): Promise<CallOutcome> {
    const heartbeat = setInterval(() => void publish(request, 'alive', {}), heartbeatMs);
    let outcome: CallOutcome;
    try {
      const opts = callOptions(request, controller.signal);
      const t = request.target;
      const result =
        t.method === 'tools/call'
          ? await upstreams.callTool(serverId, t.name, t.arguments, opts)
          : t.method === 'resources/read'
            ? await upstreams.readResource(serverId, t.uri, opts)
            : t.method === 'passthrough'
              ? await upstreams.request(serverId, t.rpcMethod, t.params, opts)
              : await upstreams.getPrompt(serverId, t.name, t.arguments, opts);
      outcome = { ok: true, result };
    } catch (e) {
      outcome = { ok: false, error: errorToWire(e) };
    } finally {
      clearInterval(heartbeat);
      cancels.delete(request.callId);
    }
    return outcome;
  }

  /** The call's outcome if it ends within inlineOutcomeMs; otherwise it is published when it ends. */
  async function take(serverId: string, request: CallRequest): Promise<CallOutcome | undefined> {
    const controller = new AbortController();
    cancels.set(request.callId, controller);
    const ended = runCall(serverId, request, controller);
    running.add(ended);
    void ended.finally(() => running.delete(ended));
    let timer: NodeJS.Timeout | undefined;
    const inline = await Promise.race([
      ended,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), inlineOutcomeMs);
      }),
    ]);
    clearTimeout(timer);
    if (inline) return inline;
    const published = ended.then((outcome) => publish(request, 'result', outcome));
    running.add(published);
    void published.finally(() => running.delete(published));
    return undefined;
  }

  async function handle(serverId: string, message: SubjectMessage): Promise<unknown> {
    const parsed = execRequestSchema.safeParse(message.payload);
    if (!parsed.success) {
      throw new AppError('validation', 'EXEC.BAD_REQUEST', `malformed exec request: ${parsed.error.message}`);
    }
    const request = parsed.data;
    switch (request.op) {
      case 'discover':
        return upstreams.discover(
          serverId,
          request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {},
        );
      case 'ping':
        return upstreams.ping(
          serverId,
          request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {},
        );
      case 'call': {
        if (closed)
          throw new AppError('unavailable', 'EXEC.RUNNER_CLOSING', `runner ${runnerId} is shutting down`);
        // Refuse rather than accept a call we can only fail: the gateway then tries another runner.
        const status = upstreams.status(serverId)[0];
        if (!status) {
          throw new AppError(
            'unavailable',
            'EXEC.NOT_HOSTED',
            `runner ${runnerId} does not host ${serverId}`,
          );
        }
        // A half-open circuit may take its trial call: refusing it would keep it open forever.
        const canTry = (i: (typeof status.instances)[number]) =>
          i.state === 'healthy' || i.state === 'starting' || i.circuit === 'half-open';
        if (!status.instances.some(canTry)) {
          throw new AppError(
            'unavailable',
            'UPSTREAM.NO_HEALTHY_INSTANCE',
            `server '${status.name}' has no healthy instance on runner ${runnerId}`,
            { runnerId },
          );
        }
        const outcome = await take(serverId, request);
        return { accepted: true, runnerId, ...(outcome && { outcome }) };
      }
      default: {
        const _: never = request;
        return _;
      }
    }
  }

  const server: UpstreamsServer = {
    runnerId,
    async serve(serverId) {
      if (closed)
        throw new AppError('unavailable', 'EXEC.RUNNER_CLOSING', `runner ${runnerId} is shutting down`);
      if (subscriptions.has(serverId)) {
        await subscriptions.get(serverId);
        return;
      }
      const sub = bus.serveSubject({
        subject: execSubject(serverId),
        queue: execQueue(serverId),
        handler: (message) => handle(serverId, message),
      });
      subscriptions.set(serverId, sub);
      try {
        await sub;
      } catch (e) {
        subscriptions.delete(serverId);
        throw e;
      }
      log.info({ serverId }, 'taking calls');
      void publishStatus();
    },
    async unserve(serverId) {
      const sub = subscriptions.get(serverId);
      if (!sub) return;
      subscriptions.delete(serverId);
      await (await sub).close();
      log.info({ serverId }, 'no longer taking calls');
      void publishStatus();
    },
    served: () => [...subscriptions.keys()],
    inFlight: () => running.size,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(statusTimer);
      stopListChanged();
      stopUpdates();
      await subscriptionChanges.close();
      const subs = [...subscriptions.values()];
      subscriptions.clear();
      await Promise.allSettled(subs.map(async (s) => (await s).close()));
      const drain = Promise.allSettled([...running]);
      await Promise.race([drain, new Promise((r) => setTimeout(r, options.drainMs ?? 30_000))]);
      // Callers may still cancel the calls that drained.
      await cancelled.close();
      await publishStatus(true);
    },
  };
  for (const id of options.serverIds ?? []) await server.serve(id);
  return server;
}
