import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { ReadAllOptions, SubscribeOptions } from '../../kernel/event-store.port.ts';
import { type AppendFeed, waitAfterShortPage } from './append-feed.ts';
import type { LiveTail } from './live-tail.ts';
import type { LogPage } from './read.ts';
import { DEFAULT_PAGE_SIZE } from './schema.ts';

export interface SubscribeDeps {
  feed: AppendFeed;
  /** The shared reader of the log's live end (live-tail.ts). */
  tail: LiveTail;
  /** A page of the log with the same read's horizon and held-back check (read.ts readLogPage). */
  readPage(options: ReadAllOptions): Promise<LogPage>;
  /** Told each time events are found held back, so that a long stall gets reported. */
  onHeldBack?: () => void;
  /** Fallback when a NOTIFY never comes (lost connection, missed wake-up). */
  pollIntervalMs: number;
  /** Aborted when the store closes. */
  closed: AbortSignal;
}

/**
 * Catch-up then live. Behind the live end, the subscription reads pages of the global log itself
 * until one comes back short — everything it follows before that read's horizon is then seen — and
 * joins the store's live tail, which reads the log once for all caught-up subscriptions (live-tail.ts).
 * A subscription that falls out of the tail's window reads for itself again. Only readAll decides
 * what is visible, so live events get the same gap-safety as history. Ends when the caller's signal
 * aborts or the store closes.
 */
export async function* subscribeToAllEvents(
  deps: SubscribeDeps,
  options: SubscribeOptions = {},
): AsyncGenerator<RecordedEvent, void, undefined> {
  const signal = options.signal ? AbortSignal.any([options.signal, deps.closed]) : deps.closed;
  const batchSize = options.batchSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new AppError(
      'validation',
      'EVENT_STORE.INVALID_BATCH_SIZE',
      'batchSize must be a positive integer',
    );
  }
  /** Everything this subscription follows up to here (inclusive) has been yielded. */
  let after = options.after ?? 0n;
  let heldBackRetryMs = 0;
  let detach: (() => void) | undefined;
  if (signal.aborted) return;
  // LISTEN before the first read, so that nothing committed after that read goes unnoticed.
  await deps.feed.start();
  try {
    while (!signal.aborted) {
      const version = deps.tail.current;
      const served = deps.tail.serve(after, options.filter, batchSize);
      if (served) {
        detach ??= deps.tail.attach();
        for (const event of served.events) {
          if (signal.aborted) return;
          yield event;
        }
        after = served.through;
        if (served.events.length === 0) await deps.tail.wait(version, signal);
        continue;
      }
      detach?.();
      detach = undefined;
      const seen = deps.feed.current;
      const page = await deps.readPage({ after, maxCount: batchSize, filter: options.filter });
      for (const event of page.events) {
        if (signal.aborted) return;
        yield event;
        after = event.position;
      }
      if (page.events.length === batchSize || signal.aborted) continue;
      // A short page: nothing more this subscription follows lies before the horizon.
      if (page.horizon - 1n > after) after = page.horizon - 1n;
      deps.tail.startAt(after);
      if (deps.tail.covers(after)) continue;
      heldBackRetryMs = await waitAfterShortPage(deps.feed, {
        seen,
        heldBack: page.heldBack,
        heldBackRetryMs,
        pollIntervalMs: deps.pollIntervalMs,
        signal,
        onHeldBack: deps.onHeldBack,
      });
    }
  } finally {
    detach?.();
  }
}
