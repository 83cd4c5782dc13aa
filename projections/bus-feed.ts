import { type Bus, type Consumer, filterSubjects } from '../bus/bus.port.ts';
import { tokenMatcher } from '../bus/subjects.ts';
import { sleep } from '../kernel/async.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore, SubscribeOptions } from '../kernel/event-store.port.ts';
import type { Logger } from '../kernel/logger.ts';

/** How a projection's live loop receives events after its checkpoint. */
export type LiveFeed = (projection: string, options: SubscribeOptions) => AsyncIterable<RecordedEvent>;

/** The default: the event store's own catch-up + live subscription. */
export function storeFeed(store: EventStore): LiveFeed {
  return (_projection, options) => store.subscribeToAll(options);
}

export interface BusFeedOptions {
  bus: Bus;
  store: EventStore;
  logger: Logger;
  /** Longest wait without a bus message before the store is read anyway (default 1 s). */
  fallbackPollMs?: number;
}

/** The name the projections' watch is listed under in `switchyard nats` (`projections_…`). */
export const PROJECTIONS_WATCH = 'projections';

interface Listener {
  /** Whether an event's subject, split into tokens, is one the listener reads. */
  matches(tokens: readonly string[]): boolean;
  onPosition(position: bigint): void;
}

/**
 * Live events from NATS, data from the store. The projections of a process share one watch on the
 * bus (`Bus.watch`, listed by `switchyard nats` as `projections_…`), and each projection is told
 * the positions of the events it reads: "the log has reached position P". The feed then reads the
 * store from its own position up to P, so a message lost on the bus can never become a gap in a
 * read model, and a wiped NATS only slows the feed down to its fallback poll. Nothing is acked: the
 * checkpoint in PostgreSQL records what was applied. One watch, not one per projection: each event
 * crosses NATS to this process once, whatever the number of projections.
 */
export function busFeed(options: BusFeedOptions): LiveFeed {
  const fallbackPollMs = options.fallbackPollMs ?? 1_000;
  const listeners = new Set<Listener>();
  let watch: Promise<Consumer> | undefined;
  const log = options.logger.child({ module: 'bus-feed' });

  async function listen(listener: Listener): Promise<() => Promise<void>> {
    listeners.add(listener);
    watch ??= options.bus.watch({
      name: PROJECTIONS_WATCH,
      onPosition(position, subject) {
        const tokens = subject.split('.');
        for (const l of listeners) if (l.matches(tokens)) l.onPosition(position);
      },
    });
    try {
      await watch;
    } catch (e) {
      listeners.delete(listener);
      watch = undefined;
      throw e;
    }
    return async () => {
      listeners.delete(listener);
      if (listeners.size > 0 || !watch) return;
      const stopping = watch;
      watch = undefined;
      await (await stopping).stop().catch((err: unknown) => log.warn({ err }, 'could not stop the watch'));
    };
  }

  return (projection, subscribe) =>
    feed(options, subscribe, fallbackPollMs, listen, log.child({ projection }));
}

async function* feed(
  { bus, store }: BusFeedOptions,
  { after, filter, signal, batchSize = 500 }: SubscribeOptions,
  fallbackPollMs: number,
  listen: (listener: Listener) => Promise<() => Promise<void>>,
  log: Logger,
): AsyncGenerator<RecordedEvent> {
  let notified = 0n;
  let wake: (() => void) | undefined;
  /** Resolves with 'message' when a bus message arrives, 'poll' after the fallback poll or an abort. */
  const nextWake = () =>
    new Promise<'message' | 'poll'>((resolve) => {
      const timer = setTimeout(() => done('poll'), fallbackPollMs);
      const aborted = () => done('poll');
      signal?.addEventListener('abort', aborted, { once: true });
      wake = () => done('message');
      function done(why: 'message' | 'poll') {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        wake = undefined;
        resolve(why);
      }
    });
  const unlisten = await listen({
    matches: tokenMatcher(filterSubjects(bus.names, filter)),
    onPosition(position) {
      if (position > notified) notified = position;
      wake?.();
    },
  });
  try {
    let position = after ?? 0n;
    let backoffMs = 1;
    while (!signal?.aborted) {
      const page = await store.readAll({ after: position, maxCount: batchSize, filter });
      for (const event of page) yield event;
      const last = page.at(-1);
      if (last) position = last.position;
      if (page.length === batchSize) continue;
      if (notified > position) {
        // The bus is ahead of what the store lets us read yet (an older transaction is still open
        // somewhere): back off briefly rather than spin.
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 100);
        continue;
      }
      backoffMs = 1;
      // One read often takes in the events of several messages: those that arrive afterwards
      // name events already handed on, and need no read. The fallback poll reads regardless.
      while ((await nextWake()) === 'message' && notified <= position && !signal?.aborted) {}
    }
  } finally {
    await unlisten().catch((err: unknown) => log.warn({ err }, 'could not stop listening'));
  }
}
