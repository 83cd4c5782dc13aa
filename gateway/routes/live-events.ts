import type { RecordedEvent, RecordedEventJson } from '../../kernel/envelope.ts';
import type { AllFilter, EventStore } from '../../kernel/event-store.port.ts';
import { categoryOf } from '../../kernel/streams.ts';
import { eventView } from './events.query.ts';

/*
 * A live feed of the event log for one caller, whatever carries it (SSE or WebSocket): the store's
 * catch-up-then-live subscription, narrowed to the caller's filters and to what it may read, pumped
 * into a transport that says when its buffer is full. The store's subscription is pulled one event
 * at a time, so a slow client holds the feed back instead of making the gateway buffer: while the
 * transport is congested nothing more is read, and a client that stays congested past the stall
 * limit is dropped with a final `end` event. Every feed ends with an `end` (when the peer can still
 * hear it) saying why and the last id sent, from which a client resumes.
 */

/** Why a feed ended, as its final `end` message says. */
export type LiveEndReason =
  /** The gateway is stopping: reconnect (to another replica) with the last id. */
  | 'shutdown'
  /** The client did not read for too long: the gateway let it go. */
  | 'slow-consumer'
  /** The credential no longer holds, or no longer allows reading events. */
  | 'unauthorized'
  /** Reading the log failed: reconnect with the last id. */
  | 'error';

export interface LiveFilter {
  stream?: string | undefined;
  category?: readonly string[] | undefined;
  type?: readonly string[] | undefined;
}

/** What a transport (SSE, WebSocket) offers the pump. */
export interface LiveSink {
  /** Aborts when the peer goes away. */
  readonly gone: AbortSignal;
  /** Sends one event; false when the transport's buffer is past its high-water mark. */
  event(event: RecordedEventJson): boolean;
  /** Keeps an idle connection open through proxies (and finds dead peers, where it can). */
  heartbeat(): void;
  /** Resolves true once the buffer has drained, false if it has not within `ms` or the peer left. */
  drained(ms: number): Promise<boolean>;
  /** The final message, then the end of the connection. */
  end(reason: LiveEndReason, lastEventId: string | undefined): void;
}

export interface LiveTiming {
  /** Idle period after which a heartbeat goes out. */
  heartbeatMs: number;
  /** How long a congested client may stay congested before it is dropped. */
  stallMs: number;
  /** How often the caller's credential is checked again. */
  recheckMs: number;
}

export const DEFAULT_LIVE_TIMING: LiveTiming = { heartbeatMs: 15_000, stallMs: 30_000, recheckMs: 30_000 };

/** The subscription's own filter: a stream narrows to its category (the store filters by category). */
export function storeFilterOf(filter: LiveFilter): AllFilter {
  const categories = filter.stream ? [categoryOf(filter.stream)] : filter.category;
  return {
    ...(categories && { categories }),
    ...(filter.type && { types: filter.type }),
  };
}

/** The caller's events of the log after `after`, catch-up then live, until `signal` aborts. */
export async function* followEvents(
  store: EventStore,
  filter: LiveFilter,
  after: bigint,
  readable: (event: RecordedEvent) => boolean,
  signal: AbortSignal,
): AsyncGenerator<RecordedEvent, void, undefined> {
  for await (const event of store.subscribeToAll({ after, filter: storeFilterOf(filter), signal })) {
    if (filter.stream !== undefined && event.stream !== filter.stream) continue;
    if (!readable(event)) continue;
    yield event;
  }
}

export interface PumpOptions {
  events: (signal: AbortSignal) => AsyncIterable<RecordedEvent>;
  sink: LiveSink;
  /** Aborts when the gateway stops. */
  shutdown: AbortSignal;
  /** Whether the caller may still read events (its credential checked again). */
  stillAllowed: () => Promise<boolean>;
  timing: LiveTiming;
  /** Where the client started (its cursor), for the final message when nothing was sent. */
  after: bigint;
  onError?: (error: unknown) => void;
}

/** Pumps the feed into the sink until the peer leaves, the gateway stops, or the caller may no longer read. */
export async function pumpLiveEvents(options: PumpOptions): Promise<LiveEndReason | 'gone'> {
  const { sink, timing } = options;
  const stop = new AbortController();
  let reason: LiveEndReason | undefined;
  const finish = (why: LiveEndReason) => {
    reason ??= why;
    stop.abort();
  };
  const onShutdown = () => finish('shutdown');
  if (options.shutdown.aborted) onShutdown();
  options.shutdown.addEventListener('abort', onShutdown);
  const signal = AbortSignal.any([stop.signal, sink.gone]);
  let congested = false;
  let quiet = true;
  const heartbeat = setInterval(() => {
    // Only an idle connection needs one; a congested one would only queue it.
    if (quiet && !congested && !signal.aborted) sink.heartbeat();
    quiet = true;
  }, timing.heartbeatMs);
  const recheck = setInterval(() => {
    void options.stillAllowed().then(
      (ok) => ok || finish('unauthorized'),
      () => finish('unauthorized'),
    );
  }, timing.recheckMs);
  let last = options.after > 0n ? options.after.toString() : undefined;
  try {
    for await (const event of options.events(signal)) {
      if (signal.aborted) break;
      const view = eventView(event);
      last = view.position;
      quiet = false;
      if (sink.event(view)) continue;
      congested = true;
      const drained = await sink.drained(timing.stallMs);
      congested = false;
      if (!drained && !sink.gone.aborted) finish('slow-consumer');
      // Ended while it waited (shutdown, unauthorized): nothing more is read from the log.
      if (!drained || signal.aborted) break;
    }
  } catch (e) {
    if (!signal.aborted) {
      options.onError?.(e);
      finish('error');
    }
  } finally {
    clearInterval(heartbeat);
    clearInterval(recheck);
    options.shutdown.removeEventListener('abort', onShutdown);
    stop.abort();
  }
  if (sink.gone.aborted) return 'gone';
  // The subscription ended on its own: only the store closing does that.
  const why = reason ?? 'shutdown';
  sink.end(why, last);
  return why;
}

/**
 * The gateway's open feeds: `close` ends every one with its final message (`shutdown`) and waits for
 * them, so that stopping is never held up by a client that never leaves. It must run before the
 * WebSocket plugin closes its sockets (app.ts), or those would close without a word.
 */
export class LiveFeeds {
  private readonly closing = new AbortController();
  private readonly open = new Set<Promise<unknown>>();

  /** Aborts when the gateway starts to stop. */
  get shutdown(): AbortSignal {
    return this.closing.signal;
  }

  track<T>(feed: Promise<T>): Promise<T> {
    this.open.add(feed);
    void feed.finally(() => this.open.delete(feed));
    return feed;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.open]);
  }
}
