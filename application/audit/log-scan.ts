import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { AllFilter, EventStore } from '../../kernel/event-store.port.ts';

/**
 * A question put to the global log: which events the store narrows to by index (`filter`: stream
 * categories or event types, the (category, position) and (type, position) indexes of the Postgres
 * store), which of those answer it (`matches`, in memory: actor, tenant, time…), and what each answer
 * is (`row`, which may read the event's own stream).
 */
export interface LogQuery<T> {
  filter: AllFilter;
  matches(event: RecordedEvent): boolean;
  row(event: RecordedEvent): Promise<T>;
}

/** The recorded-time window of a question: `from` inclusive, `to` exclusive; either may be open. */
export interface TimeWindow {
  from?: Date | undefined;
  to?: Date | undefined;
}

export function inWindow(event: RecordedEvent, window: TimeWindow): boolean {
  const t = event.recordedAt.getTime();
  return (
    (window.from === undefined || t >= window.from.getTime()) &&
    (window.to === undefined || t < window.to.getTime())
  );
}

/** One answer and its place in the log: the position is a cursor — pass it as `after` to go on from it. */
export interface Positioned<T> {
  position: bigint;
  row: T;
}

export interface PageOptions {
  /** Exclusive cursor: answers strictly after this global position (0n: from the beginning). */
  after: bigint;
  /** At most this many answers. */
  limit: number;
  /**
   * At most this many events of the narrowed log read for one page: a question few events answer
   * returns a short (even empty) page with `hasMore` and a cursor past what was read, rather than
   * holding the request while it reads the whole log.
   */
  scanBudget: number;
}

export interface Page<T> {
  rows: T[];
  /** Pass as `after` for the next page: past every answer of this page and every event read for it. */
  next: bigint;
  hasMore: boolean;
}

/** Events read from the store at a time (one query of the narrowed log). */
const READ_SIZE = 500;
/** Answers built at once within a read (each may read a stream): enough to overlap round trips. */
const ROW_CONCURRENCY = 16;

/**
 * Every answer after `after`, in log order, read a page at a time: memory holds one read of events,
 * whatever the size of the answer. Ends at the first short read (the log's readable end), or when
 * `onRead` (told the position read through and how many events each read held) says to stop.
 */
export async function* answers<T>(
  store: EventStore,
  query: LogQuery<T>,
  after: bigint,
  onRead?: (position: bigint, count: number) => boolean,
): AsyncGenerator<Positioned<T>> {
  let cursor = after;
  for (;;) {
    const events = await store.readAll({ after: cursor, maxCount: READ_SIZE, filter: query.filter });
    const matched = events.filter((e) => query.matches(e));
    for (let i = 0; i < matched.length; i += ROW_CONCURRENCY) {
      const chunk = matched.slice(i, i + ROW_CONCURRENCY);
      const rows = await Promise.all(chunk.map((e) => query.row(e)));
      for (const [j, row] of rows.entries()) yield { position: chunk[j]!.position, row };
    }
    const last = events.at(-1);
    if (last) cursor = last.position;
    const goOn = onRead ? onRead(cursor, events.length) : true;
    if (events.length < READ_SIZE || !goOn) return;
  }
}

/** One page of answers for a JSON answer: at most `limit` rows, at most `scanBudget` events read. */
export async function answerPage<T>(
  store: EventStore,
  query: LogQuery<T>,
  options: PageOptions,
): Promise<Page<T>> {
  const rows: T[] = [];
  let read = 0;
  let readThrough = options.after;
  let exhausted = true;
  const it = answers(store, query, options.after, (position, count) => {
    read += count;
    readThrough = position;
    exhausted = count < READ_SIZE;
    return read < options.scanBudget;
  });
  for await (const { position, row } of it) {
    rows.push(row);
    if (rows.length === options.limit) {
      // Full: the cursor is this answer, so the next page starts right after it.
      await it.return(undefined);
      return { rows, next: position, hasMore: true };
    }
  }
  return { rows, next: readThrough, hasMore: !exhausted };
}
