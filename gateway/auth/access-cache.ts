import type { Bus, Closeable } from '../../bus/bus.port.ts';
import {
  ACCESS_CATEGORY_LIST,
  type AccessEvent,
  type AccessState,
  accessStale,
  applyAccessEvent,
  emptyAccessState,
} from '../../domains/access/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { Logger } from '../../kernel/logger.ts';

export interface AccessCacheOptions {
  store: EventStore;
  registry: EventTypeRegistry;
  clock: Clock;
  logger: Logger;
  /** Where gateways tell each other "access changed, read the log now" (distributed mode). */
  bus?: Bus | undefined;
  /** Fallback read when nobody says anything (default 500 ms). */
  pollMs?: number;
  /**
   * Fail closed: when the log could not be read for this long, every authentication and decision
   * is refused (503) rather than made on rules that may have changed since (default 5 s).
   */
  maxStalenessMs?: number;
  /** Opens the sealed personal data of events (principals' names) before they are folded. */
  open?: ((events: readonly RecordedEvent[]) => Promise<RecordedEvent[]>) | undefined;
}

export interface AccessCache {
  /** The current rules; throws AUTH.STALE when they could not be refreshed within the bound. */
  state(): AccessState;
  /** Resolves once the rules include the event at `position` (a write is in force when answered). */
  caughtUp(position: bigint | undefined): Promise<void>;
  /** Tells every gateway to read the log now (called after an access write). */
  announce(position: bigint | undefined): void;
  /** The rules as they were at an instant: the access streams folded up to it. */
  stateAt(at: Date): Promise<AccessState>;
  /** Called after each batch of changes with the events applied. */
  onChange(listener: (events: readonly RecordedEvent[]) => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const SUBJECT = 'access.changed';

/**
 * Who may do what, in memory on every gateway, folded from the access streams of the log. The log
 * is read on a push — an access write announces itself on the bus, so a revoked key is refused by
 * every gateway within milliseconds — and on a short poll should a push be lost. When neither has
 * succeeded for `maxStalenessMs`, the cache refuses to answer: a gateway cut off from the log fails
 * closed instead of honouring a key that may have been revoked meanwhile.
 */
export function createAccessCache(options: AccessCacheOptions): AccessCache {
  const pollMs = options.pollMs ?? 500;
  const maxStalenessMs = options.maxStalenessMs ?? 5_000;
  const log = options.logger.child({ module: 'access' });
  const filter = { categories: ACCESS_CATEGORY_LIST };
  const state = emptyAccessState();
  const listeners = new Set<(events: readonly RecordedEvent[]) => void>();
  const waiters: Array<{ position: bigint; resolve: () => void }> = [];
  let position = 0n;
  let freshAt = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let subscription: Closeable | undefined;
  let failures = 0;

  function apply(events: readonly RecordedEvent[], into: AccessState): void {
    for (const e of events) {
      const data = options.registry.upcast(e.type, e.metadata.schemaVersion, e.data);
      applyAccessEvent(into, { type: e.type, data } as AccessEvent, e.position);
    }
  }

  async function opened(events: readonly RecordedEvent[]): Promise<readonly RecordedEvent[]> {
    return options.open ? options.open(events) : events;
  }

  async function readOnce(): Promise<void> {
    // What the log held before this pass: once the pass is done, everything up to it is applied,
    // whether or not the last event there was an access event (waiters may name any position).
    const head = waiters.length > 0 ? await options.store.headPosition() : 0n;
    for (;;) {
      const page = await options.store.readAll({ after: position, maxCount: 1_000, filter });
      if (page.length > 0) {
        apply(await opened(page), state);
        position = page.at(-1)!.position;
        for (const l of listeners) l(page);
      }
      if (page.length < 1_000) break;
    }
    freshAt = options.clock.now().getTime();
    // The pages may have stopped short of `head` (the store's readable end can move back between
    // two reads): the head counts only when one read says nothing of ours is left up to it.
    const reached =
      head > position && (await options.store.caughtUp(position, head, filter)) ? head : position;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.position <= reached) waiters.splice(i, 1)[0]!.resolve();
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        await readOnce();
        if (failures > 0) log.info({ after: failures }, 'access rules readable again');
        failures = 0;
      } catch (e) {
        if (failures++ === 0)
          log.warn({ err: e }, 'cannot read access rules; refusing requests once they are stale');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waiters.length > 0 ? 5 : pollMs);
        wake = done;
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
      });
    }
  }

  return {
    state() {
      const age = options.clock.now().getTime() - freshAt;
      if (age > maxStalenessMs) throw accessStale(age);
      return state;
    },
    async caughtUp(target) {
      if (target === undefined || target <= position) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(accessStale(maxStalenessMs)), maxStalenessMs);
        waiters.push({
          position: target,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        wake?.();
      });
    },
    announce(at) {
      wake?.();
      void options.bus
        ?.publishSubject(SUBJECT, { position: at?.toString() ?? null })
        .catch((e: unknown) => log.warn({ err: e }, 'could not announce an access change'));
    },
    async stateAt(at) {
      const past = emptyAccessState();
      let after = 0n;
      for (;;) {
        const page = await options.store.readAll({ after, maxCount: 1_000, filter });
        const upTo = page.filter((e) => e.recordedAt <= at);
        apply(await opened(upTo), past);
        if (page.length < 1_000 || upTo.length < page.length) break;
        after = page.at(-1)!.position;
      }
      return past;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      await readOnce();
      if (options.bus) {
        subscription = await options.bus.subscribeSubject({ subject: SUBJECT, handler: () => wake?.() });
      }
      loop = run();
    },
    async stop() {
      stopped = true;
      wake?.();
      await subscription?.close();
      await loop;
    },
  };
}
