import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AllFilter, ReadAllOptions, SubscribeOptions } from '../../kernel/event-store.port.ts';
import type { SqlConnection } from './connection.ts';
import { APPEND_CHANNEL, DEFAULT_PAGE_SIZE } from './schema.ts';

/**
 * Turns NOTIFYs on the append channel into a version number subscribers can wait on. Waiting on a
 * version (rather than on "the next notification") means a NOTIFY that lands while a subscriber is
 * still reading is not lost: its wait returns at once.
 */
export class AppendFeed {
  private version = 0;
  private readonly waiters = new Set<() => void>();
  private listening: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(private readonly connection: SqlConnection) {}

  /** LISTENs once, for all subscribers. Without LISTEN, subscribers still poll, just more slowly. */
  start(): Promise<unknown> {
    this.listening ??= this.connection
      .listen(APPEND_CHANNEL, () => this.bump())
      .catch(() => {
        this.listening = undefined;
        return undefined;
      });
    return this.listening;
  }

  get current(): number {
    return this.version;
  }

  /** Resolves when the version moves past `since`, after `timeoutMs`, or when `signal` aborts. */
  wait(since: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.version !== since || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    for (const wake of [...this.waiters]) wake();
    const unlisten = await this.listening;
    this.listening = undefined;
    await unlisten?.().catch(() => {});
  }

  private bump(): void {
    this.version++;
    for (const wake of [...this.waiters]) wake();
  }
}

export interface SubscribeDeps {
  feed: AppendFeed;
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Whether events after a position exist that an older, still running transaction keeps unreadable. */
  hasHeldBack(after: bigint, filter: AllFilter | undefined): Promise<boolean>;
  /** Told each time events are found held back, so that a long stall gets reported. */
  onHeldBack?: () => void;
  /** Fallback when a NOTIFY never comes (lost connection, missed wake-up). */
  pollIntervalMs: number;
  /** Aborted when the store closes. */
  closed: AbortSignal;
}

/** Held-back events become readable when some other transaction ends, which sends no NOTIFY. */
const HELD_BACK_FIRST_RETRY_MS = 10;
const HELD_BACK_MAX_RETRY_MS = 1_000;

/**
 * Catch-up then live: reads pages of the global log until one comes back short, then waits for a
 * NOTIFY or the poll interval and reads again. Only readAll decides what is visible, so live events
 * get the same gap-safety as history. Ends when the caller's signal aborts or the store closes.
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
  let after = options.after ?? 0n;
  let heldBackRetryMs = 0;
  if (signal.aborted) return;
  // LISTEN before the first read, so that nothing committed after that read goes unnoticed.
  await deps.feed.start();
  while (!signal.aborted) {
    const seen = deps.feed.current;
    const page = await deps.readAll({ after, maxCount: batchSize, filter: options.filter });
    for (const event of page) {
      if (signal.aborted) return;
      yield event;
      after = event.position;
    }
    if (page.length === batchSize || signal.aborted) continue;
    if (await deps.hasHeldBack(after, options.filter)) {
      deps.onHeldBack?.();
      heldBackRetryMs = Math.min(
        Math.max(heldBackRetryMs * 2, HELD_BACK_FIRST_RETRY_MS),
        HELD_BACK_MAX_RETRY_MS,
        deps.pollIntervalMs,
      );
      await deps.feed.wait(seen, heldBackRetryMs, signal);
    } else {
      heldBackRetryMs = 0;
      await deps.feed.wait(seen, deps.pollIntervalMs, signal);
    }
  }
}
