import { setMaxListeners } from 'node:events';
import { serverDecider } from '../../domains/servers/decider.ts';
import type { ServerEvent, ServerSettings } from '../../domains/servers/events.ts';
import { type Processor, startProcessor } from '../../event-store/processor.ts';
import type { Clock } from '../../kernel/clock.ts';
import { handleCommand, loadStream } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError, errorMessage } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { randomIds } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import { idOf, streamName } from '../../kernel/streams.ts';
import type { Catalog, Upstreams } from '../../runners/upstream.port.ts';
import {
  type DiscoveryCommand,
  type DiscoveryState,
  defaultRetryPolicy,
  discoveryDecider,
  type RetryPolicy,
} from './decider.ts';
import { DISCOVERY_CATEGORY, type DiscoveryEvent, type DiscoveryReason } from './events.ts';

/** Where discovered catalogs are recorded (the catalog domain). */
export interface CatalogRecorder {
  /**
   * Records a catalog; `changed` is false when its hash equals the last one (no CapabilitiesDiscovered).
   * With `pinTools`, its tools are also judged against their approvals (the catalog domain).
   */
  record(
    serverId: string,
    serverRevision: bigint,
    catalog: Catalog,
    options: { pinTools: boolean },
  ): Promise<{ hash: string; changed: boolean }>;
  recordFailure(serverId: string, reason: string, attempt: number, willRetry: boolean): Promise<void>;
  clear(serverId: string): Promise<void>;
}

export interface DiscoveryProcessDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  clock: Clock;
  logger: Logger;
  upstreams: Pick<Upstreams, 'discover' | 'onListChanged'>;
  catalog: CatalogRecorder;
  /** Position in the global log up to which server events have been turned into saga inputs. */
  checkpoint: { load(): Promise<bigint>; save(position: bigint): Promise<void> };
  policy?: RetryPolicy;
  attemptTimeoutMs?: number;
  /** How long an attempt waits for a runner to host the server before it counts as failed. */
  hostWaitMs?: number;
}

/** The runner does not (yet) host the server: it follows the same log and may be behind us. */
const NOT_HOSTED = new Set(['UPSTREAM.UNKNOWN_SERVER', 'UPSTREAM.NOT_HOSTED']);

const SYSTEM_ACTOR = 'system:discovery';

/**
 * An error as DiscoveryFailed keeps it: one line, capped. The runner words upstream failures
 * without the upstream's answer body; the cap keeps a chatty error from filling the log anyway.
 */
function briefError(e: unknown): string {
  const line = errorMessage(e).replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/**
 * Runs the discovery saga: turns server events (and upstream list_changed notifications) into
 * saga inputs, runs each due attempt against the upstream, and records the outcome — the catalog
 * (CapabilitiesDiscovered only when its hash changed) or DiscoveryFailed — then the attempt in the
 * saga's stream, which schedules the retry. Inputs carry the triggering event's id as their command
 * id, so replaying the server log after a crash appends nothing twice.
 */
export function createDiscoveryProcess(deps: DiscoveryProcessDeps) {
  const policy = deps.policy ?? defaultRetryPolicy;
  const attemptTimeoutMs = deps.attemptTimeoutMs ?? 30_000;
  const hostWaitMs = deps.hostWaitMs ?? 30_000;
  const log = deps.logger.child({ module: 'discovery' });
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  const stopping = new AbortController();
  // Every discovery in flight listens on it (one per server registered at once: a hundred at start).
  setMaxListeners(0, stopping.signal);
  let feed: Processor | undefined;
  let unsubscribe: (() => void) | undefined;

  const meta = (commandId: string, correlationId = commandId): CommandMeta => ({
    commandId,
    actor: SYSTEM_ACTOR,
    correlationId,
    issuedAt: deps.clock.now(),
  });

  async function send(
    serverId: string,
    command: DiscoveryCommand,
    commandId: string,
    correlationId?: string,
  ) {
    await handleCommand(
      { store: deps.store, registry: deps.registry },
      discoveryDecider,
      streamName(DISCOVERY_CATEGORY, serverId),
      command,
      meta(commandId, correlationId),
    );
    await schedule(serverId);
  }

  async function state(serverId: string): Promise<DiscoveryState> {
    const { events } = await loadStream<DiscoveryEvent>(
      { store: deps.store, registry: deps.registry },
      streamName(DISCOVERY_CATEGORY, serverId),
    );
    return events.reduce(discoveryDecider.evolve, discoveryDecider.initialState);
  }

  async function serverState(serverId: string): Promise<{ settings?: ServerSettings | undefined }> {
    const { events } = await loadStream<ServerEvent>(
      { store: deps.store, registry: deps.registry },
      streamName('server', serverId),
    );
    const server = events.reduce(serverDecider.evolve, serverDecider.initialState);
    return server.status === 'active' ? { settings: server.settings } : {};
  }

  async function schedule(serverId: string): Promise<void> {
    if (stopping.signal.aborted) return;
    const s = await state(serverId);
    clearTimeout(timers.get(serverId));
    timers.delete(serverId);
    if (s.status !== 'pending') return;
    const delay = Math.max(0, s.dueAt.getTime() - deps.clock.now().getTime());
    const timer = setTimeout(() => {
      timers.delete(serverId);
      void attempt(serverId);
    }, delay);
    timer.unref();
    timers.set(serverId, timer);
  }

  /** One attempt, single-flight per server. */
  function attempt(serverId: string): Promise<void> {
    const current = running.get(serverId);
    if (current) return current;
    const run = runAttempt(serverId)
      .catch((e: unknown) => log.error({ err: e, serverId }, 'discovery attempt could not be recorded'))
      .finally(() => running.delete(serverId));
    running.set(serverId, run);
    return run;
  }

  async function runAttempt(serverId: string): Promise<void> {
    const s = await state(serverId);
    if (s.status !== 'pending' || stopping.signal.aborted) return;
    const n = s.attempts + 1;
    const attemptId = randomIds.uuid();
    let outcome: Extract<DiscoveryCommand, { type: 'RecordAttempt' }>['outcome'];
    try {
      const catalog = await discoverWhenHosted(serverId);
      if (!catalog) return;
      // The setting as it is now, not as the request found it: pinning turned on while an attempt
      // was pending takes effect with this attempt.
      const pinTools = (await serverState(serverId)).settings?.pinTools === true;
      const { hash, changed } = await deps.catalog.record(serverId, s.serverRevision, catalog, { pinTools });
      outcome = { ok: true, hash, changed };
      log.info({ serverId, attempt: n, tools: catalog.tools.length, changed }, 'discovered');
    } catch (e) {
      if (stopping.signal.aborted) return;
      const error = briefError(e);
      await deps.catalog.recordFailure(serverId, error, n, n < policy.maxAttempts);
      outcome = { ok: false, error };
      log.warn({ serverId, attempt: n, error }, 'discovery failed');
    }
    await send(
      serverId,
      { type: 'RecordAttempt', serverId, attempt: n, outcome, at: deps.clock.now(), policy },
      attemptId,
    );
  }

  /**
   * Asks the upstream for its catalog, waiting (with backoff, up to hostWaitMs) while no runner
   * hosts the server yet — the runner starts it from the same event that requested discovery.
   * Answers nothing when the request is no longer pending (disabled, removed meanwhile).
   */
  async function discoverWhenHosted(serverId: string): Promise<Catalog | undefined> {
    const waitUntil = Date.now() + hostWaitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      try {
        return await deps.upstreams.discover(serverId, {
          signal: stopping.signal,
          timeoutMs: attemptTimeoutMs,
        });
      } catch (e) {
        const notHosted = e instanceof AppError && NOT_HOSTED.has(e.code);
        if (!notHosted || Date.now() + pause > waitUntil || stopping.signal.aborted) throw e;
        await new Promise((r) => setTimeout(r, pause));
        if ((await state(serverId)).status !== 'pending') return undefined;
      }
    }
  }

  /** Turns one server event into saga inputs. */
  async function onServerEvent(event: RecordedEvent): Promise<void> {
    const serverId = idOf(event.stream);
    const e = { type: event.type, data: event.data } as ServerEvent;
    const request = (reason: DiscoveryReason) =>
      send(
        serverId,
        { type: 'RequestDiscovery', serverId, reason, serverRevision: event.revision, at: deps.clock.now() },
        event.id,
        event.metadata.correlationId,
      );
    switch (e.type) {
      case 'ServerRegistered':
        if (e.data.enabled) await request('registered');
        return;
      case 'ServerEnabled':
        await request('enabled');
        return;
      case 'ServerUpdated':
      case 'ServerRefreshRequested': {
        // Only an enabled server is hosted by a runner; a disabled one is discovered when enabled.
        const { events } = await loadStream<ServerEvent>(
          { store: deps.store, registry: deps.registry },
          event.stream,
        );
        const server = events.reduce(serverDecider.evolve, serverDecider.initialState);
        if (server.status === 'active' && server.enabled) {
          await request(e.type === 'ServerUpdated' ? 'updated' : 'refresh');
        }
        return;
      }
      case 'ServerDisabled':
        await send(
          serverId,
          { type: 'CancelDiscovery', serverId, reason: 'disabled', at: deps.clock.now() },
          event.id,
        );
        return;
      case 'ServerRemoved':
        await send(
          serverId,
          { type: 'CancelDiscovery', serverId, reason: 'removed', at: deps.clock.now() },
          event.id,
        );
        await deps.catalog.clear(serverId);
        return;
      default:
        return;
    }
  }

  return {
    async start(): Promise<void> {
      // Resume what a previous process left pending (its schedule is in the saga streams).
      const seen = new Set<string>();
      let position = 0n;
      for (;;) {
        const page = await deps.store.readAll({
          after: position,
          maxCount: 1000,
          filter: { categories: [DISCOVERY_CATEGORY] },
        });
        for (const e of page) seen.add(idOf(e.stream));
        if (page.length < 1000) break;
        position = page.at(-1)!.position;
      }
      for (const serverId of seen) await schedule(serverId);
      unsubscribe = deps.upstreams.onListChanged(({ serverId }) => {
        void (async () => {
          const revision = await deps.store.streamRevision(streamName('server', serverId));
          if (revision === undefined) return;
          await send(
            serverId,
            {
              type: 'RequestDiscovery',
              serverId,
              reason: 'list_changed',
              serverRevision: revision,
              at: deps.clock.now(),
            },
            randomIds.uuid(),
          );
        })().catch((e: unknown) =>
          log.warn({ err: e, serverId }, 'could not request discovery after list_changed'),
        );
      });
      // Server events become saga inputs; a store or database hiccup retries the same event.
      feed = startProcessor({
        name: 'discovery',
        store: deps.store,
        filter: { categories: ['server'] },
        checkpoint: deps.checkpoint,
        handle: onServerEvent,
        logger: log,
      });
    },
    async stop(): Promise<void> {
      stopping.abort();
      unsubscribe?.();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await feed?.stop();
      await Promise.allSettled(running.values());
    },
    /** Pending attempts and running ones, for status and tests. */
    pending: () => ({ scheduled: timers.size, running: running.size }),
  };
}

export type DiscoveryProcess = ReturnType<typeof createDiscoveryProcess>;
