import { randomUUID } from 'node:crypto';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  GetPromptResultSchema,
  LoggingMessageNotificationSchema,
  PromptSchema,
  ReadResourceResultSchema,
  ResourceSchema,
  ResourceTemplateSchema,
  ToolSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Bus, Closeable } from '../../bus/bus.port.ts';
import { wireToError } from '../../bus/wire.ts';
import { OPERATION_OVER } from '../../kernel/async.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type {
  CallOptions,
  Catalog,
  ClientSideHandlers,
  InstanceStatus,
  ListChanged,
  UpstreamStatus,
  Upstreams,
} from '../upstream.port.ts';
import {
  ALL_CHANGED,
  ALL_STATUS,
  acceptedSchema,
  type CallOutcome,
  type CallTarget,
  callOutcomeSchema,
  cancelSubject,
  changedSchema,
  clientRequestSchema,
  type ExecRequest,
  execSubject,
  gatewayAsks,
  gatewayReplies,
  progressSchema,
  type RunnerStatus,
  resourceUpdatedSchema,
  runnerStatusSchema,
  type SubscriptionChange,
  subscriptionsSubject,
  updatedSubject,
} from './exec-protocol.ts';

export interface RemoteUpstreamsOptions {
  bus: Bus;
  logger: Logger;
  /** How long a runner has to accept a call (default 5 s). */
  acceptTimeoutMs?: number;
  /**
   * A call whose runner sent nothing — no heartbeat, progress or result — for this long is given up
   * as lost (default 10 s; runners send a heartbeat every 2 s).
   */
  livenessMs?: number;
  /** Timeout of discovery and ping when the caller gives none (default 60 s). */
  defaultTimeoutMs?: number;
  /** Runner status reports older than this are dropped (default 15 s). */
  statusTtlMs?: number;
}

interface PendingCall {
  onMessage(channel: string, payload: unknown): void;
  handlers: ClientSideHandlers;
  signal: AbortSignal;
  /** Aborts the call (on close). */
  controller: AbortController;
}

const catalogSchema = z.object({
  serverInfo: z.object({ name: z.string(), version: z.string() }).optional(),
  protocolVersion: z.string().optional(),
  instructions: z.string().optional(),
  capabilities: z.record(z.string(), z.unknown()),
  tools: z.array(ToolSchema),
  resources: z.array(ResourceSchema),
  resourceTemplates: z.array(ResourceTemplateSchema),
  prompts: z.array(PromptSchema),
});

/**
 * Upstreams on the runners, reached over the bus: every call goes to `<prefix>.exec.<serverId>`,
 * where the runners hosting that server share the load as one queue group. See exec-protocol.ts.
 *
 * ensure() and stop() do nothing here: runners keep their own pools in sync with the server
 * registry (runners/host.ts). status() shows what runners last reported (every few seconds);
 * list_changed notifications of any runner's upstreams reach onListChanged listeners, and
 * resources/updated of a server reach onResourceUpdated listeners while a caller of this gateway
 * is subscribed to one of its resources (only then is `exec.updated.<serverId>` listened to).
 */
export async function createRemoteUpstreams(options: RemoteUpstreamsOptions): Promise<Upstreams> {
  const { bus } = options;
  const log = options.logger.child({ module: 'runners.remote' });
  const acceptTimeoutMs = options.acceptTimeoutMs ?? 5_000;
  const livenessMs = options.livenessMs ?? 10_000;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
  const statusTtlMs = options.statusTtlMs ?? 15_000;
  const runners = new Map<string, { at: number; status: RunnerStatus }>();
  const listeners = new Set<(change: ListChanged) => void>();
  const updateListeners = new Set<(serverId: string, uri: string) => void>();
  /** Per server with subscribers here: the (caller, uri) pairs, and the updates subscription. */
  const watched = new Map<string, { pairs: Set<string>; updates: Promise<Closeable> }>();
  /** Calls of this gateway waiting on a runner, by call id: where their replies and questions go. */
  const calls = new Map<string, PendingCall>();
  /** Names this gateway in the subjects of its calls' replies (exec-protocol.ts). */
  const gatewayId = randomUUID();
  let closed = false;

  const subscriptions: Closeable[] = [
    await bus.subscribeSubject({
      subject: ALL_STATUS,
      handler: (m) => {
        const parsed = runnerStatusSchema.safeParse(m.payload);
        if (!parsed.success) return;
        if (parsed.data.servers.length === 0) runners.delete(parsed.data.runnerId);
        else runners.set(parsed.data.runnerId, { at: Date.now(), status: parsed.data });
      },
    }),
    // The replies and questions of every call of this gateway: no subscription per call.
    await bus.subscribeSubject({
      subject: gatewayReplies(gatewayId),
      handler: (m) => {
        const [, , , callId = '', channel = ''] = m.subject.split('.');
        calls.get(callId)?.onMessage(channel, m.payload);
      },
    }),
    await bus.serveSubject({
      subject: gatewayAsks(gatewayId),
      handler: (m) => {
        const call = calls.get(m.subject.split('.')[3] ?? '');
        if (!call) throw new AppError('not_found', 'EXEC.UNKNOWN_CALL', 'no such call waits here');
        return serveClient(m.payload, call.handlers, call.signal);
      },
    }),
    await bus.subscribeSubject({
      subject: ALL_CHANGED,
      handler: (m) => {
        const parsed = changedSchema.safeParse(m.payload);
        if (!parsed.success) return;
        for (const l of listeners) {
          try {
            l(parsed.data);
          } catch (e) {
            log.warn({ err: (e as Error).message }, 'list_changed listener failed');
          }
        }
      },
    }),
  ];

  /** Listens to a server's resources/updated, from its first subscribed pair on. */
  async function watch(serverId: string, pair: string): Promise<void> {
    let w = watched.get(serverId);
    if (!w) {
      const updates = bus.subscribeSubject({
        subject: updatedSubject(serverId),
        handler: (m) => {
          const parsed = resourceUpdatedSchema.safeParse(m.payload);
          if (!parsed.success || parsed.data.serverId !== serverId) return;
          for (const l of updateListeners) {
            try {
              l(serverId, parsed.data.uri);
            } catch (e) {
              log.warn({ err: (e as Error).message }, 'resources/updated listener failed');
            }
          }
        },
      });
      w = { pairs: new Set(), updates };
      watched.set(serverId, w);
      // Dropped again below if the bus refuses.
      updates.catch(() => {});
    }
    w.pairs.add(pair);
    try {
      await w.updates;
    } catch (e) {
      await unwatch(serverId, pair);
      throw e;
    }
  }

  /** Stops listening to a server's updates once its last pair is gone. */
  async function unwatch(serverId: string, pair: string): Promise<void> {
    const w = watched.get(serverId);
    if (!w?.pairs.delete(pair) || w.pairs.size > 0) return;
    watched.delete(serverId);
    await (await w.updates.catch(() => undefined))?.close();
  }

  /** Tells every runner hosting the server that a caller (un)subscribed a resource. */
  function publishSubscription(change: SubscriptionChange): Promise<void> {
    return bus.publishSubject(subscriptionsSubject(change.serverId), change);
  }

  /**
   * Asks a runner to take the call; one retry when the one reached cannot. Answers the outcome when
   * the call ended before the runner answered.
   */
  async function accept(
    serverId: string,
    request: ExecRequest,
    signal: AbortSignal,
  ): Promise<CallOutcome | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const accepted = acceptedSchema.parse(
          await bus.requestSubject(execSubject(serverId), request, { timeoutMs: acceptTimeoutMs, signal }),
        );
        return accepted.outcome;
      } catch (e) {
        if (e instanceof AppError && e.code === 'BUS.NO_RESPONDERS') {
          throw new AppError('unavailable', 'UPSTREAM.NOT_HOSTED', `no runner hosts server ${serverId}`, {
            serverId,
          });
        }
        // Refused before anything ran (no healthy instance there, runner closing): another member
        // of the queue group may do better. A timeout is not retried: the call may be running.
        const refused = e instanceof AppError && e.kind === 'unavailable';
        if (!refused || attempt >= 1) throw e;
      }
    }
  }

  async function serveClient(payload: unknown, handlers: ClientSideHandlers, signal: AbortSignal) {
    const request = clientRequestSchema.parse(payload);
    const unavailable = (what: string) =>
      new AppError('not_found', 'UPSTREAM.CLIENT_CANNOT', `the caller cannot serve ${what}`);
    switch (request.method) {
      case 'sampling/createMessage': {
        if (!handlers.createMessage) throw unavailable('sampling');
        const { params } = CreateMessageRequestSchema.parse(request);
        return handlers.createMessage(params, signal);
      }
      case 'elicitation/create': {
        if (!handlers.elicit) throw unavailable('elicitation');
        const { params } = ElicitRequestSchema.parse(request);
        return handlers.elicit(params, signal);
      }
      case 'roots/list':
        if (!handlers.listRoots) throw unavailable('roots');
        return handlers.listRoots(signal);
      default: {
        const _: never = request;
        return _;
      }
    }
  }

  async function call(serverId: string, target: CallTarget, callOptions: CallOptions): Promise<unknown> {
    if (closed) throw new AppError('unavailable', 'UPSTREAM.CLOSED', 'remote upstreams are closed');
    const callId = randomUUID();
    const controller = new AbortController();
    const signal = callOptions.signal
      ? AbortSignal.any([callOptions.signal, controller.signal])
      : controller.signal;
    let lastHeard = Date.now();
    let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
    const outcome = new Promise<unknown>((resolve, reject) => {
      settle = { resolve, reject };
    });

    const onMessage = (channel: string, payload: unknown) => {
      lastHeard = Date.now();
      if (channel === 'progress') {
        const p = progressSchema.safeParse(payload);
        if (p.success) callOptions.onProgress?.(p.data);
      } else if (channel === 'log') {
        const n = LoggingMessageNotificationSchema.safeParse({
          method: 'notifications/message',
          params: payload,
        });
        if (n.success) callOptions.onLog?.(n.data.params);
      } else if (channel === 'result') {
        const r = callOutcomeSchema.safeParse(payload);
        if (!r.success) settle.reject(new AppError('internal', 'EXEC.BAD_RESULT', 'malformed call outcome'));
        else if (r.data.ok) settle.resolve(r.data.result);
        else settle.reject(wireToError(r.data.error));
      }
    };
    calls.set(callId, { onMessage, handlers: callOptions, signal, controller });
    try {
      const relay = {
        progress: callOptions.onProgress !== undefined,
        log: callOptions.onLog !== undefined,
        createMessage: callOptions.createMessage !== undefined,
        elicit: callOptions.elicit !== undefined,
        listRoots: callOptions.listRoots !== undefined,
      };
      const request: ExecRequest = {
        op: 'call',
        callId,
        gatewayId,
        target,
        relay,
        ...(callOptions.caller !== undefined ? { caller: callOptions.caller } : {}),
        ...(callOptions.oneShot ? { oneShot: true } : {}),
        ...(callOptions.timeoutMs !== undefined ? { timeoutMs: callOptions.timeoutMs } : {}),
      };
      const inline = await accept(serverId, request, signal);
      if (inline) {
        if (inline.ok) return inline.result;
        throw wireToError(inline.error);
      }
      lastHeard = Date.now();
      return await waitFor(outcome, () => lastHeard, signal, callId);
    } catch (e) {
      if (callOptions.signal?.aborted) {
        void bus.publishSubject(cancelSubject(callId), {}).catch(() => {});
        throw new AppError(
          'timeout',
          'UPSTREAM.CANCELLED',
          `the call to ${serverId} was cancelled by the caller`,
        );
      }
      if (controller.signal.aborted && closed) {
        throw new AppError('unavailable', 'UPSTREAM.CLOSED', 'remote upstreams closed during the call');
      }
      throw e;
    } finally {
      controller.abort(OPERATION_OVER);
      calls.delete(callId);
    }
  }

  /** The outcome, unless the runner goes quiet for `livenessMs` or the caller gives up first. */
  function waitFor(
    outcome: Promise<unknown>,
    lastHeard: () => number,
    signal: AbortSignal,
    callId: string,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setInterval(
        () => {
          if (Date.now() - lastHeard() <= livenessMs) return;
          done();
          reject(
            new AppError(
              'unavailable',
              'UPSTREAM.RUNNER_LOST',
              `the runner serving the call went quiet for ${livenessMs} ms (it may have died)`,
              { callId },
            ),
          );
        },
        Math.min(1_000, livenessMs / 4),
      );
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const done = () => {
        clearInterval(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      outcome.then(
        (v) => {
          done();
          resolve(v);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  async function direct(serverId: string, request: ExecRequest, timeoutMs: number, signal?: AbortSignal) {
    try {
      return await bus.requestSubject(execSubject(serverId), request, {
        // The runner enforces timeoutMs; the margin covers the trip.
        timeoutMs: timeoutMs + 5_000,
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'BUS.NO_RESPONDERS') {
        throw new AppError('unavailable', 'UPSTREAM.NOT_HOSTED', `no runner hosts server ${serverId}`, {
          serverId,
        });
      }
      throw e;
    }
  }

  return {
    async ensure() {},
    async stop() {},

    async discover(serverId, discoverOptions = {}) {
      const timeoutMs = discoverOptions.timeoutMs ?? defaultTimeoutMs;
      const reply = await direct(serverId, { op: 'discover', timeoutMs }, timeoutMs, discoverOptions.signal);
      const c = catalogSchema.parse(reply);
      const catalog: Catalog = {
        serverInfo: c.serverInfo,
        protocolVersion: c.protocolVersion,
        instructions: c.instructions,
        capabilities: c.capabilities,
        tools: c.tools,
        resources: c.resources,
        resourceTemplates: c.resourceTemplates,
        prompts: c.prompts,
      };
      return catalog;
    },

    async callTool(serverId, tool, args, callOptions = {}) {
      const result = await call(serverId, { method: 'tools/call', name: tool, arguments: args }, callOptions);
      return CallToolResultSchema.parse(result);
    },

    async readResource(serverId, uri, callOptions = {}) {
      return ReadResourceResultSchema.parse(
        await call(serverId, { method: 'resources/read', uri }, callOptions),
      );
    },

    async getPrompt(serverId, prompt, args, callOptions = {}) {
      const result = await call(
        serverId,
        { method: 'prompts/get', name: prompt, arguments: args },
        callOptions,
      );
      return GetPromptResultSchema.parse(result);
    },

    async request(serverId, method, params, callOptions = {}) {
      const uri = params?.uri;
      if (
        (method === 'resources/subscribe' || method === 'resources/unsubscribe') &&
        typeof uri === 'string'
      ) {
        const caller = callOptions.caller;
        const pair = `${caller ?? ''}\n${uri}`;
        const change = { serverId, uri, ...(caller !== undefined && { caller }) };
        if (method === 'resources/unsubscribe') {
          await unwatch(serverId, pair);
          await publishSubscription({ ...change, subscribed: false });
          return {};
        }
        // Listening before the upstream subscribes: its first update may follow the answer at once.
        await watch(serverId, pair);
        let result: unknown;
        try {
          result = await call(serverId, { method: 'passthrough', rpcMethod: method, params }, callOptions);
        } catch (e) {
          await unwatch(serverId, pair);
          throw e;
        }
        // The other runners follow; the subscription holds without them.
        await publishSubscription({ ...change, subscribed: true }).catch((e: unknown) =>
          log.warn(
            { serverId, err: (e as Error).message },
            'could not tell the other runners of a subscription',
          ),
        );
        return z.record(z.string(), z.unknown()).parse(result);
      }
      const result = await call(serverId, { method: 'passthrough', rpcMethod: method, params }, callOptions);
      return z.record(z.string(), z.unknown()).parse(result);
    },

    async ping(serverId, pingOptions = {}) {
      const timeoutMs = pingOptions.timeoutMs ?? 10_000;
      return z.number().parse(await direct(serverId, { op: 'ping', timeoutMs }, timeoutMs));
    },

    status(serverId): UpstreamStatus[] {
      const now = Date.now();
      const byServer = new Map<string, UpstreamStatus>();
      for (const [runnerId, { at, status }] of runners) {
        if (now - at > statusTtlMs) {
          runners.delete(runnerId);
          continue;
        }
        for (const s of status.servers) {
          if (serverId !== undefined && s.serverId !== serverId) continue;
          const merged = byServer.get(s.serverId) ?? { ...s, instances: [] as InstanceStatus[] };
          if (BigInt(s.revision) > BigInt(merged.revision))
            Object.assign(merged, { name: s.name, revision: s.revision });
          for (const i of s.instances) {
            merged.instances.push({
              ...i,
              index: merged.instances.length,
              target: `${runnerId}: ${i.target}`,
            });
          }
          byServer.set(s.serverId, merged);
        }
      }
      return [...byServer.values()];
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
      for (const c of calls.values()) c.controller.abort();
      const updates = [...watched.values()].map((w) => w.updates.then((s) => s.close()));
      watched.clear();
      await Promise.allSettled([...subscriptions.map((s) => s.close()), ...updates]);
      listeners.clear();
      updateListeners.clear();
    },
  };
}
