import type { NewEvent, RecordedEvent } from './envelope.ts';

/**
 * What the stream must look like for an append to go through.
 * - `'no-stream'`: the stream must not exist yet.
 * - `'any'`: no check.
 * - `'stream-exists'`: the stream must have at least one event.
 * - a bigint: the revision of the stream's last event must be exactly this.
 */
export type ExpectedRevision = 'no-stream' | 'any' | 'stream-exists' | bigint;

export interface AppendResult {
  /** Revision of the last event of this append (or of the original append, for a replay). */
  nextExpectedRevision: bigint;
  /** Global position of the last event of this append. */
  position: bigint;
  /** True when every event id was already stored: nothing new was appended. */
  duplicate: boolean;
}

/** One stream's part of an `appendMany`. */
export interface StreamAppend {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive start revision; defaults to the first (forwards) or last (backwards) event. */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface AllFilter {
  /** Only events whose stream category is one of these (an empty list matches nothing). */
  categories?: readonly string[];
  /** Only events of these types (an empty list matches nothing). */
  types?: readonly string[];
}

export interface ReadAllOptions {
  /** Exclusive: return events strictly after this position. Omit (or 0n) to start at the beginning. */
  after?: bigint;
  /** Page size; defaults to 1000. */
  maxCount?: number;
  filter?: AllFilter;
}

export interface SubscribeOptions {
  /** Exclusive start position, as for readAll. */
  after?: bigint;
  filter?: AllFilter;
  signal?: AbortSignal;
  /** Page size used while catching up. */
  batchSize?: number;
}

/**
 * Durable, ordered log of events, one stream per aggregate, with a gap-safe global order.
 * Adapters: Postgres (pg and PGlite through Kysely) and EventStoreDB. Contract:
 * test/contracts/event-store.contract.ts.
 */
export interface EventStore {
  /**
   * Append events atomically to one stream. Throws WrongExpectedRevisionError on a revision
   * mismatch. Appending events whose ids are all already stored in this stream is a no-op that
   * returns the original result with `duplicate: true`; a partial overlap is a conflict error.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;

  /**
   * Append to several streams at once, each as `append` would: its expected revision checked, an
   * entry whose ids are all already stored in its stream answered with its original result
   * (`duplicate: true`). Returns one result per entry, in order; within the global log the entries'
   * events follow the order of the list. A stream may appear once, an event id once, per call.
   *
   * Atomic where the store allows it: on Postgres (pg and PGlite) one transaction in one round trip,
   * and any entry's conflict (wrong revision, ids stored in part) fails the whole call, writing
   * nothing. EventStoreDB has no transaction across streams: there the entries are appended one after
   * another, and a conflict leaves the entries before it written (see that adapter). Invalid input is
   * refused on every store before anything is written.
   */
  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]>;

  /** Events of one stream; an unknown stream reads as empty. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /** Revision of the stream's last event, or undefined when the stream does not exist. */
  streamRevision(stream: string): Promise<bigint | undefined>;

  /**
   * A page of the global log in global order. Never skips an event that commits later. An append
   * can become readable here a moment after it returns (the Postgres store first waits for older
   * transactions to end), so read your own writes from the stream, not from the global log.
   */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /**
   * Catch-up then live subscription to the global log. Ends when `signal` aborts.
   * Adapters wake on new events (LISTEN/NOTIFY, gRPC stream) and poll as a fallback.
   */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;

  /** Position of the last event readable in the global log (0n when empty). */
  headPosition(): Promise<bigint>;

  /**
   * Whether a reader that has handled the log up to `after` (following `filter`) has nothing left to
   * read up to `position`: every event at or before `position` is readable, and none matching
   * `filter` lies in (after, position]. One consistent read — on the Postgres store the readable end
   * may move back between two reads (horizon.ts), so `headPosition` followed by `readAll` can answer
   * yes while an event before `position` is not yet readable.
   */
  caughtUp(after: bigint, position: bigint, filter?: AllFilter): Promise<boolean>;

  /** Number of events readable in the global log after `after` (for lag reporting). */
  countAfter(after: bigint, filter?: AllFilter): Promise<number>;

  close(): Promise<void>;
}
