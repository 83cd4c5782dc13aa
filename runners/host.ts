import { evolve, initialState, type ServerConfig, type ServerState } from '../domains/servers/decider.ts';
import { SERVER_CATEGORY, type ServerEvent, serverEventTypeNames } from '../domains/servers/events.ts';
import { type Processor, startProcessor } from '../event-store/processor.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../kernel/event-types.ts';
import type { Logger } from '../kernel/logger.ts';
import type { SecretBox } from '../kernel/secrets.ts';
import { idOf } from '../kernel/streams.ts';
import { envSecretRefs, type SecretRefPolicy, upstreamSpecFor } from './host-spec.ts';
import type { Upstreams } from './upstream.port.ts';

export interface RunnerHostOptions {
  store: EventStore;
  registry: EventTypeRegistry;
  secrets: SecretBox;
  upstreams: Upstreams;
  logger: Logger;
  /**
   * Answers secret references (`{ secretRef: 'env:NAME' }`). Default: `env:NAME` from `env`.
   * References resolve on the runner, so a token need only exist where the server runs.
   */
  resolveSecretRef?: (ref: string) => string | undefined;
  /** The variables servers may reference (default: none). */
  secretRefPolicy?: SecretRefPolicy;
  /** The runner's own environment, for the default resolver (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Remote execution: told which servers to take calls for (runners/remote serveUpstreams). */
  exec?: { serve(serverId: string): Promise<void>; unserve(serverId: string): Promise<void> };
  /** Which servers this runner hosts (default: every one). */
  hosts?: (config: ServerConfig) => boolean;
  /** First pause before retrying after the store's subscription failed (default 100 ms, doubling to 5 s). */
  retryDelayMs?: number;
}

/** Keeps a runner's upstreams in step with the server registry. */
export interface RunnerHost {
  /** Catches up with every server event and reconciles; then follows live until stop(). */
  start(): Promise<void>;
  /** Stops following. The upstreams (and the exec server) stay up: their owner closes them. */
  stop(): Promise<void>;
  /** Servers that should run but cannot, and why (a secret that does not open, a bad spec). */
  problems(): Record<string, string>;
  /** Global position of the last server event applied. */
  position(): bigint;
}

interface Tracked {
  state: ServerState;
  /** Revision of the server stream at the last event applied. */
  revision: bigint;
}

const SERVER_EVENT_TYPES = new Set<string>(serverEventTypeNames);

/**
 * The runner host: folds every server stream with the servers decider's evolve (from the event
 * store, the source of truth, so it needs no read model and no bus), opens secrets, and calls
 * `ensure` for every enabled server and `stop` for disabled and removed ones — at start for all,
 * then per event as they happen (store.subscribeToAll on the `server` category).
 */
export function createRunnerHost(options: RunnerHostOptions): RunnerHost {
  const { store, registry, upstreams } = options;
  const log = options.logger.child({ module: 'runners.host' });
  const resolveRef =
    options.resolveSecretRef ?? envSecretRefs(options.env ?? process.env, options.secretRefPolicy);
  const hosts = options.hosts ?? (() => true);
  const servers = new Map<string, Tracked>();
  const problems = new Map<string, string>();
  const chains = new Map<string, Promise<void>>();
  let position = 0n;
  let following: Processor | undefined;

  /** Folds one event into its server's state; false if it is not a server event we know. */
  function apply(event: RecordedEvent): string | undefined {
    position = event.position;
    if (!SERVER_EVENT_TYPES.has(event.type)) return undefined;
    const serverId = idOf(event.stream);
    const data = registry.upcast(event.type, event.metadata.schemaVersion, event.data);
    const tracked = servers.get(serverId) ?? { state: initialState, revision: -1n };
    servers.set(serverId, {
      state: evolve(tracked.state, { type: event.type, data } as ServerEvent),
      revision: event.revision,
    });
    return serverId;
  }

  async function reconcileNow(serverId: string): Promise<void> {
    const tracked = servers.get(serverId);
    if (tracked?.state.status !== 'active' || !tracked.state.enabled || !hosts(tracked.state)) {
      problems.delete(serverId);
      await options.exec?.unserve(serverId);
      await upstreams.stop(serverId);
      return;
    }
    const state = tracked.state;
    let spec: ReturnType<typeof upstreamSpecFor>;
    try {
      spec = upstreamSpecFor(state, tracked.revision, options.secrets, resolveRef);
    } catch (e) {
      // An outdated configuration must not keep running as if it were current.
      problems.set(serverId, (e as Error).message);
      log.error({ serverId, server: state.name, err: (e as Error).message }, 'cannot start server');
      await options.exec?.unserve(serverId);
      await upstreams.stop(serverId);
      return;
    }
    try {
      await upstreams.ensure(spec);
      problems.delete(serverId);
      await options.exec?.serve(serverId);
      log.info({ serverId, server: state.name, revision: String(tracked.revision) }, 'server hosted');
    } catch (e) {
      problems.set(serverId, (e as Error).message);
      log.error({ serverId, server: state.name, err: (e as Error).message }, 'cannot host server');
    }
  }

  /** One reconciliation at a time per server, in event order; failures are logged, not thrown. */
  function reconcile(serverId: string): Promise<void> {
    const next = (chains.get(serverId) ?? Promise.resolve()).then(() =>
      reconcileNow(serverId).catch((e: unknown) =>
        log.error({ serverId, err: (e as Error).message }, 'reconciling failed'),
      ),
    );
    chains.set(serverId, next);
    void next.finally(() => {
      if (chains.get(serverId) === next) chains.delete(serverId);
    });
    return next;
  }

  async function catchUp(): Promise<void> {
    for (;;) {
      const page = await store.readAll({
        after: position,
        maxCount: 500,
        filter: { categories: [SERVER_CATEGORY] },
      });
      for (const e of page) apply(e);
      if (page.length < 500) return;
    }
  }

  return {
    async start() {
      if (following) return;
      await catchUp();
      await Promise.all([...servers.keys()].map(reconcile));
      following = startProcessor({
        name: 'runner host',
        store,
        filter: { categories: [SERVER_CATEGORY] },
        checkpoint: { load: async () => position },
        async handle(event) {
          const serverId = apply(event);
          if (serverId) void reconcile(serverId);
        },
        logger: log,
        retry: { firstMs: options.retryDelayMs ?? 100 },
      });
    },
    async stop() {
      await following?.stop();
      await Promise.allSettled([...chains.values()]);
    },
    problems: () => Object.fromEntries(problems),
    position: () => position,
  };
}
