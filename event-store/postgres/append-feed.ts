import type { SqlConnection } from './connection.ts';
import { APPEND_CHANNEL } from './schema.ts';

/**
 * Turns NOTIFYs on the append channel into a version number subscribers can wait on. Waiting on a
 * version (rather than on "the next notification") means a NOTIFY that lands while a subscriber is
 * still reading is not lost: its wait returns at once.
 */
export class AppendFeed {
  private version = 0;
  /** The highest position a NOTIFY named (append_serialized names its append's last one). */
  private notifiedHead = 0n;
  /** The version of the last NOTIFY that named no position: it may be about any event. */
  private blindVersion = 0;
  private readonly waiters = new Set<() => void>();
  private listening: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(private readonly connection: SqlConnection) {}

  /** LISTENs once, for all subscribers. Without LISTEN, subscribers still poll, just more slowly. */
  start(): Promise<unknown> {
    this.listening ??= this.connection
      .listen(APPEND_CHANNEL, (payload) => this.bump(payload))
      .catch(() => {
        this.listening = undefined;
        return undefined;
      });
    return this.listening;
  }

  get current(): number {
    return this.version;
  }

  /**
   * Whether every NOTIFY since version `since` named a position at or below `position`: a reader
   * that holds the log up to `position` has nothing new to read for them.
   */
  heldBy(since: number, position: bigint): boolean {
    return this.blindVersion <= since && this.notifiedHead <= position;
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

  private bump(payload = ''): void {
    this.version++;
    const position = /^[0-9]{1,20}$/.test(payload) ? BigInt(payload) : undefined;
    if (position === undefined) this.blindVersion = this.version;
    else if (position > this.notifiedHead) this.notifiedHead = position;
    for (const wake of [...this.waiters]) wake();
  }
}

/** Held-back events become readable when some other transaction ends, which sends no NOTIFY. */
const HELD_BACK_FIRST_RETRY_MS = 10;
const HELD_BACK_MAX_RETRY_MS = 1_000;

/**
 * What a reader of the log does after a short page: waits for the next append (NOTIFY) or the poll
 * interval — or, when the page found events held back, only a short pause, doubling from 10 ms to
 * 1 s, since their becoming readable sends no NOTIFY. Answers the pause to start from next time.
 */
export async function waitAfterShortPage(
  feed: AppendFeed,
  wait: {
    seen: number;
    heldBack: boolean;
    /** What this answered last time (0 at first). */
    heldBackRetryMs: number;
    pollIntervalMs: number;
    signal: AbortSignal;
    onHeldBack?: (() => void) | undefined;
    /**
     * Where the reader holds the log up to: NOTIFYs naming positions at or below it (events it was
     * handed without reading, LiveTail.push) are no news, and it goes on waiting.
     */
    holding?: (() => bigint) | undefined;
  },
): Promise<number> {
  if (!wait.heldBack) {
    for (let since = wait.seen; ; since = feed.current) {
      await feed.wait(since, wait.pollIntervalMs, wait.signal);
      // Stopped, the poll interval passed, or a NOTIFY about something the reader does not hold.
      if (wait.signal.aborted || feed.current === since) return 0;
      if (!wait.holding || !feed.heldBy(since, wait.holding())) return 0;
    }
  }
  wait.onHeldBack?.();
  const retryMs = Math.min(
    Math.max(wait.heldBackRetryMs * 2, HELD_BACK_FIRST_RETRY_MS),
    HELD_BACK_MAX_RETRY_MS,
    wait.pollIntervalMs,
  );
  await feed.wait(wait.seen, retryMs, wait.signal);
  return retryMs;
}
