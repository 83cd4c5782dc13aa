import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  FORWARDS,
  type JSONEventData,
  type JSONType,
  NO_STREAM,
  type ReadPosition,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { EventMetadata, NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import { AppError, WrongExpectedRevisionError } from '../../kernel/errors.ts';
import type {
  AllFilter,
  AppendResult,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  StreamAppend,
  SubscribeOptions,
} from '../../kernel/event-store.port.ts';
import { matchesFilter } from '../all-filter.ts';
import { partialDuplicate, validateAppend, validateAppendMany } from '../append-validation.ts';

export type EventStoreDbStoreOptions = (
  | {
      /** e.g. `esdb://localhost:2113?tls=false`. The store owns this client and disposes of it on close. */
      connectionString: string;
    }
  | {
      /** A client owned by the caller; close() leaves it open. */
      client: EventStoreDBClient;
    }
) & {
  /**
   * How many of a stream's latest events an append searches for already stored event ids (see
   * `append`). Default 1000.
   */
  idempotencyWindow?: number;
};

/** The same limit as the Postgres store, so a batch valid on one adapter is valid on the other. */
const MAX_EVENTS_PER_APPEND = 1_048_576;
const DEFAULT_PAGE_SIZE = 1000;

/**
 * The event store on EventStoreDB / KurrentDB (`@eventstore/db-client`, gRPC).
 *
 * Positions are commit positions in the server's transaction log. For ordinary appends every event
 * has its own commit position, so they are unique and increasing in `$all` order, as the port asks.
 * The `$all` log of EventStoreDB is a single ordered log, so it needs none of the Postgres store's
 * gap-avoidance: what a read returns never gains an earlier neighbour.
 *
 * Events in system streams or of system types (`$…`) are not part of our global log.
 */
export function createEventStoreDbStore(options: EventStoreDbStoreOptions): EventStore {
  const ownsClient = 'connectionString' in options;
  const client =
    'connectionString' in options
      ? EventStoreDBClient.connectionString(options.connectionString)
      : options.client;
  const idempotencyWindow = options.idempotencyWindow ?? 1000;
  const closing = new AbortController();

  /**
   * Looks for the ids among the stream's latest `idempotencyWindow` events. EventStoreDB itself only
   * deduplicates a retry reliably when it repeats the original expected revision, so we look first:
   * a retried command arrives with its original (now stale) expected revision. Limits, by design:
   * an id older than the window is not found (EventStoreDB may then store it twice), and two
   * identical appends racing each other can both pass this check (EventStoreDB then usually
   * deduplicates the second, which still reports `duplicate: false`). Ids are only unique per
   * stream here, not across streams as on Postgres.
   */
  async function storedEvents(stream: string, ids: ReadonlySet<string>): Promise<RecordedEvent[]> {
    const found: RecordedEvent[] = [];
    try {
      const read = client.readStream(stream, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: idempotencyWindow,
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event && ids.has(event.id)) found.push(event);
        if (found.length === ids.size) break;
      }
    } catch (err) {
      if (!(err instanceof StreamNotFoundError)) throw err;
    }
    return found;
  }

  async function append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    validateAppend(stream, events, expected, MAX_EVENTS_PER_APPEND);
    const ids = new Set(events.map((e) => e.id.toLowerCase()));
    const stored = await storedEvents(stream, ids);
    if (stored.length === ids.size) {
      // The original append's result: its last event has the highest revision and position.
      const last = stored.toSorted((a, b) => (a.revision < b.revision ? -1 : 1)).at(-1)!;
      return { nextExpectedRevision: last.revision, position: last.position, duplicate: true };
    }
    if (stored.length > 0)
      throw partialDuplicate(
        stream,
        stored.map((e) => e.id),
      );

    try {
      const result = await client.appendToStream(stream, events.map(toEventData), {
        expectedRevision: toEsdbExpected(expected),
      });
      return {
        nextExpectedRevision: result.nextExpectedRevision,
        position: result.position?.commit ?? (await lastPositionOf(stream)),
        duplicate: false,
      };
    } catch (err) {
      if (err instanceof WrongExpectedVersionError) {
        const actual = err.actualVersion === NO_STREAM ? 'no-stream' : BigInt(err.actualVersion);
        throw new WrongExpectedRevisionError(stream, expected, actual);
      }
      throw err;
    }
  }

  /**
   * NOT ATOMIC. EventStoreDB appends atomically to one stream only (`appendToStream`; the client has
   * no transaction across streams), so the entries are appended one after another, in order, each
   * with its own expected-revision check and replay detection. Invalid input is refused before
   * anything is written; but a conflict on entry k leaves entries 0 … k-1 written, and the error is
   * that entry's. A caller that needs all-or-nothing across streams needs the Postgres store.
   */
  async function appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    validateAppendMany(appends, MAX_EVENTS_PER_APPEND);
    const results: AppendResult[] = [];
    for (const entry of appends) results.push(await append(entry.stream, entry.events, entry.expected));
    return results;
  }

  /** Servers before 22.6 do not return an append's position; the stream's last event has it. */
  async function lastPositionOf(stream: string): Promise<bigint> {
    const [last] = await readStream(stream, { direction: 'backwards', maxCount: 1 });
    return last?.position ?? 0n;
  }

  async function readStream(stream: string, readOptions: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = readOptions.direction === 'backwards';
    const maxCount = checkMaxCount(readOptions.maxCount);
    if (maxCount === 0) return [];
    const events: RecordedEvent[] = [];
    try {
      const read = client.readStream(stream, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: readOptions.fromRevision ?? (backwards ? END : START),
        ...(maxCount === undefined ? {} : { maxCount }),
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event) events.push(event);
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
    return events;
  }

  async function streamRevision(stream: string): Promise<bigint | undefined> {
    const [last] = await readStream(stream, { direction: 'backwards', maxCount: 1 });
    return last?.revision;
  }

  /**
   * This client has no server-side filter for reads of `$all`, so filtering happens here while
   * streaming: a rare category far behind `after` costs a scan of everything in between.
   */
  async function readAll(readOptions: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = checkMaxCount(readOptions.maxCount) ?? DEFAULT_PAGE_SIZE;
    const after = readOptions.after ?? 0n;
    const events: RecordedEvent[] = [];
    if (maxCount === 0 || matchesNothing(readOptions.filter)) return events;
    const read = client.readAll({ direction: FORWARDS, fromPosition: positionAfter(after) });
    try {
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        // fromPosition is inclusive on reads, hence `> after`.
        if (!event || event.position <= after || !matchesFilter(event, readOptions.filter)) continue;
        events.push(event);
        if (events.length === maxCount) break;
      }
    } finally {
      await read.cancel().catch(() => {});
    }
    return events;
  }

  async function* subscribeToAll(subscribeOptions: SubscribeOptions = {}): AsyncGenerator<RecordedEvent> {
    const signal = subscribeOptions.signal
      ? AbortSignal.any([subscribeOptions.signal, closing.signal])
      : closing.signal;
    if (signal.aborted) return;
    const after = subscribeOptions.after ?? 0n;
    const filter = subscribeOptions.filter;
    if (matchesNothing(filter)) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    // The gRPC subscription does catch-up then live by itself, filtered on the server; the check
    // below makes the server's prefix filter exact and applies the dimension it could not take.
    const subscription = client.subscribeToAll({
      fromPosition: positionAfter(after),
      filter: serverFilter(filter),
    });
    const stop = () => {
      subscription.unsubscribe().catch(() => {});
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const resolved of subscription) {
        if (signal.aborted) return;
        const event = toRecorded(resolved);
        if (!event || event.position <= after || !matchesFilter(event, filter)) continue;
        yield event;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await subscription.unsubscribe().catch(() => {});
    }
  }

  /** The newest event of `$all` that is ours (system events are skipped). */
  async function headPosition(): Promise<bigint> {
    const read = client.readAll({ direction: BACKWARDS, fromPosition: END });
    try {
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event) return event.position;
      }
    } finally {
      await read.cancel().catch(() => {});
    }
    return 0n;
  }

  /** `$all` becomes readable in commit order, so the head and a read after it agree. */
  async function caughtUp(after: bigint, position: bigint, filter?: AllFilter): Promise<boolean> {
    if (position <= after) return true;
    if ((await headPosition()) < position) return false;
    const [next] = await readAll({ after, maxCount: 1, filter });
    return next === undefined || next.position > position;
  }

  /** Counts by reading every event after `after`: fine for lag on a live system, slow far behind. */
  async function countAfter(after: bigint, filter?: AllFilter): Promise<number> {
    if (matchesNothing(filter)) return 0;
    let count = 0;
    for await (const resolved of client.readAll({
      direction: FORWARDS,
      fromPosition: positionAfter(after),
    })) {
      const event = toRecorded(resolved);
      if (event && event.position > after && matchesFilter(event, filter)) count++;
    }
    return count;
  }

  return {
    append,
    appendMany,
    readStream,
    streamRevision,
    readAll,
    subscribeToAll,
    headPosition,
    caughtUp,
    countAfter,
    async close() {
      closing.abort();
      if (ownsClient) await client.dispose();
    },
  };
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no-stream':
      return NO_STREAM;
    case 'any':
      return ANY;
    case 'stream-exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

function toEventData(event: NewEvent): JSONEventData {
  return {
    id: event.id,
    contentType: 'application/json',
    type: event.type,
    // The client JSON-encodes data whatever its shape; its type only admits objects, arrays and
    // strings, but numbers, booleans and null round-trip the same way.
    data: (event.data ?? null) as JSONType,
    metadata: event.metadata as unknown as JSONType,
  };
}

/** Ours, or undefined for system events, unresolved links and non-JSON events written by others. */
function toRecorded(resolved: ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event?.isJson) return undefined;
  if (event.streamId.startsWith('$') || event.type.startsWith('$')) return undefined;
  const position = event.position?.commit ?? resolved.commitPosition;
  if (position === undefined) {
    throw new AppError(
      'internal',
      'EVENT_STORE.POSITION_UNAVAILABLE',
      'EventStoreDB did not report event positions; the server must be version 22.6 or newer',
    );
  }
  return {
    id: event.id,
    type: event.type,
    stream: event.streamId,
    revision: event.revision,
    position,
    data: event.data,
    metadata: event.metadata as unknown as EventMetadata,
    recordedAt: event.created,
  };
}

/**
 * Positions we hand out are commit positions of events whose prepare position is the same, so
 * `{ commit, prepare }` rebuilt from one of them is a valid place to resume from.
 */
function positionAfter(after: bigint): ReadPosition {
  return after <= 0n ? START : { commit: after, prepare: after };
}

function serverFilter(filter: AllFilter | undefined): Filter {
  if (filter?.categories) return streamNameFilter({ prefixes: filter.categories.map((c) => `${c}-`) });
  if (filter?.types) return eventTypeFilter({ prefixes: [...filter.types] });
  return excludeSystemEvents();
}

function matchesNothing(filter: AllFilter | undefined): boolean {
  return filter?.categories?.length === 0 || filter?.types?.length === 0;
}

function checkMaxCount(maxCount: number | undefined): number | undefined {
  if (maxCount === undefined) return undefined;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new AppError(
      'validation',
      'EVENT_STORE.INVALID_MAX_COUNT',
      'maxCount must be a non-negative integer',
    );
  }
  return maxCount;
}
