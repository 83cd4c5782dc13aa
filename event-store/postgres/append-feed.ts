import type { SqlConnection } from './connection.ts';
import { APPEND_CHANNEL } from './schema.ts';

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
