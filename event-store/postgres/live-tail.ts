import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { AllFilter, ReadAllOptions } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { matchesFilter } from '../all-filter.ts';
import { type AppendFeed, waitAfterShortPage } from './append-feed.ts';
import type { LogPage } from './read.ts';

/*
 * One reader of the log's live end for every subscription of a store.
 *
 * A running system follows the log with a dozen subscriptions (the relay, each projection, the
 * sagas, the runner host, the access cache, the MCP change feeds). Each used to read the log on its
 * own on every NOTIFY — a read and a held-back check apiece, each computing the horizon from
 * pg_locks: issue 10 counted about 90 statements per tool call, 18,000 for 200 calls, which was
 * most of PostgreSQL's CPU and most of a call's latency. Subscriptions that are caught up now share
 * one unfiltered read per wake-up (and one held-back check when it comes back short); each takes
 * from it what its filter matches. A subscription that is behind the tail's window (catching up, or
 * too slow to keep up) reads the log on its own, as before, until it reaches the window again.
 *
 * The window holds the final events in (from, cursor]: every event of the log in that range, in
 * position order, nothing held back (readAll returns only what is final). It keeps the newest
 * WINDOW_EVENTS events; what falls off the front moves `from` forward. Its events are shared by
 * every subscriber, so they are frozen.
 */

/** Events the window keeps: enough for a subscriber busy with a batch to find its place again. */
const WINDOW_EVENTS = 5_000;
/** A failed read is retried after this long, doubling up to the poll interval. */
const FAILURE_FIRST_RETRY_MS = 50;

export interface LiveTailDeps {
  feed: AppendFeed;
  /** A page of the log with the same read's horizon and held-back check (read.ts readLogPage). */
  readPage(options: ReadAllOptions): Promise<LogPage>;
  onHeldBack?: () => void;
  pollIntervalMs: number;
  pageSize: number;
  closed: AbortSignal;
  logger?: Logger | undefined;
}

/** What the tail hands a subscriber: the events after its position that match, and where it now is. */
export interface Served {
  events: RecordedEvent[];
  /** The subscriber has seen everything up to here (inclusive). */
  through: bigint;
}

export class LiveTail {
  private window: RecordedEvent[] = [];
  /** The window holds every final event in (from, cursor]; undefined until the tail starts. */
  private from: bigint | undefined;
  private cursor = 0n;
  private version = 0;
  private readonly waiters = new Set<() => void>();
  private users = 0;
  private running = false;

  constructor(private readonly deps: LiveTailDeps) {}

  /** Whether a subscriber that has seen the log up to `after` can be served from the window. */
  covers(after: bigint): boolean {
    return this.from !== undefined && after >= this.from;
  }

  /**
   * Starts the window at `after` when the tail has none yet: the caller knows every final event up
   * to `after` (it has just read below a horizon past it).
   */
  startAt(after: bigint): void {
    if (this.from !== undefined) return;
    this.from = after;
    this.cursor = after;
  }

  /**
   * The window's events after `after` that match `filter`, at most `max`; undefined when the
   * window does not reach back to `after` (the subscriber must read the log itself).
   */
  serve(after: bigint, filter: AllFilter | undefined, max: number): Served | undefined {
    if (!this.covers(after)) return undefined;
    const events: RecordedEvent[] = [];
    for (let i = this.firstAfter(after); i < this.window.length; i++) {
      const event = this.window[i]!;
      if (!matchesFilter(event, filter)) continue;
      events.push(event);
      if (events.length === max) return { events, through: event.position };
    }
    return { events, through: this.cursor > after ? this.cursor : after };
  }

  /** Counted while a subscriber is served from the tail: the tail reads only while someone is. */
  attach(): () => void {
    this.users++;
    this.run();
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.users--;
    };
  }

  get current(): number {
    return this.version;
  }

  /** Resolves when the tail has read again since `since`, or `signal` aborts. */
  wait(since: number, signal: AbortSignal): Promise<void> {
    if (this.version !== since || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private run(): void {
    if (this.running || this.deps.closed.aborted) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      // Someone attached while the loop was leaving: keep reading for them.
      if (this.users > 0) this.run();
    });
  }

  private async loop(): Promise<void> {
    const { feed, closed } = this.deps;
    let heldBackRetryMs = 0;
    let failureRetryMs = 0;
    while (this.users > 0 && !closed.aborted) {
      const seen = feed.current;
      let page: LogPage;
      try {
        page = await this.readPage();
        failureRetryMs = 0;
      } catch (e) {
        // A reader never stops for good: the next attempt comes after a growing pause.
        failureRetryMs = Math.min(
          Math.max(failureRetryMs * 2, FAILURE_FIRST_RETRY_MS),
          this.deps.pollIntervalMs,
        );
        if (!closed.aborted) {
          this.deps.logger?.warn(
            { err: e, retryInMs: failureRetryMs },
            'reading the live end of the log failed',
          );
        }
        await feed.wait(seen, failureRetryMs, closed);
        continue;
      }
      if (page.events.length === this.deps.pageSize) continue;
      heldBackRetryMs = await waitAfterShortPage(feed, {
        seen,
        heldBack: page.heldBack,
        heldBackRetryMs,
        pollIntervalMs: this.deps.pollIntervalMs,
        signal: closed,
        onHeldBack: this.deps.onHeldBack,
        // Pushed events are in the window: the NOTIFYs about them are no reason to read.
        holding: () => this.cursor,
      });
    }
  }

  /**
   * Events a store that runs one transaction at a time has just committed right after `previous`
   * (event-store/postgres/append.ts CommittedAppend): when the window ends exactly there, they are
   * the log's next events, and subscribers get them without anyone reading the log. Otherwise (the
   * tail has not started, or is behind) they are left to the tail's next read.
   */
  push(previous: bigint, events: readonly RecordedEvent[]): void {
    if (this.from === undefined || previous !== this.cursor || events.length === 0) return;
    this.add(events);
  }

  /** Reads one page after the cursor into the window and wakes the subscribers waiting on it. */
  private async readPage(): Promise<LogPage> {
    const page = await this.deps.readPage({ after: this.cursor, maxCount: this.deps.pageSize });
    // Events pushed while the page was read are in the window already.
    this.add(page.events.filter((e) => e.position > this.cursor));
    return page;
  }

  /** Adds the log's next events to the window and wakes the subscribers waiting on it. */
  private add(events: readonly RecordedEvent[]): void {
    if (events.length > 0) {
      for (const event of events) this.window.push(deepFreeze(event));
      this.cursor = events.at(-1)!.position;
      this.trim();
    }
    this.version++;
    for (const wake of [...this.waiters]) wake();
  }

  private trim(): void {
    const excess = this.window.length - WINDOW_EVENTS;
    if (excess <= 0) return;
    this.from = this.window[excess - 1]!.position;
    this.window.splice(0, excess);
  }

  /** Index of the first event in the window after `after` (binary search: positions ascend). */
  private firstAfter(after: bigint): number {
    let lo = 0;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.window[mid]!.position <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
