import type { Bus } from '../bus/bus.port.ts';
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

/**
 * Live events from NATS, data from the store. Each projection owns a durable, ordered JetStream
 * consumer (`projection-<name>`, visible in `switchyard nats` with its pending count and ack
 * floor); a message there says "the log has reached position P". The feed then reads the store from
 * its own position up to P, so a message lost or parked on the bus can never become a gap in a read
 * model, and a wiped NATS only slows the feed down to its fallback poll. The ack is explicit and
 * immediate: the checkpoint in PostgreSQL, not the ack floor, records what was applied.
 */
export function busFeed(options: BusFeedOptions): LiveFeed {
  const fallbackPollMs = options.fallbackPollMs ?? 1_000;
  return (projection, subscribe) => feed(options, projection, subscribe, fallbackPollMs);
}

async function* feed(
  { bus, store, logger }: BusFeedOptions,
  projection: string,
  { after, filter, signal, batchSize = 500 }: SubscribeOptions,
  fallbackPollMs: number,
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
  const consumer = await bus.consume({
    name: `projection-${projection}`,
    filter,
    startAt: 'new',
    handler: async (event) => {
      if (event.position > notified) notified = event.position;
      wake?.();
    },
  });
  const log = logger.child({ module: 'bus-feed', projection });
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
    await consumer.stop().catch((err: unknown) => log.warn({ err }, 'could not stop the consumer'));
  }
}
