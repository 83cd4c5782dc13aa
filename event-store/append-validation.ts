import type { NewEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import type { ExpectedRevision, StreamAppend } from '../kernel/event-store.port.ts';
import { isUuid } from '../kernel/ids.ts';

/**
 * Checks an append before any adapter touches its database, so that bad input fails the same way
 * (a validation error, nothing written) on every adapter.
 */
export function validateAppend(
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  maxEvents: number,
): void {
  if (typeof stream !== 'string' || stream.length === 0 || stream.startsWith('$')) {
    throw invalid('EVENT_STORE.INVALID_STREAM', `invalid stream name: ${JSON.stringify(stream)}`);
  }
  if (
    typeof expected === 'bigint' ? expected < 0n : !['no-stream', 'any', 'stream-exists'].includes(expected)
  ) {
    throw invalid(
      'EVENT_STORE.INVALID_EXPECTED_REVISION',
      `expected revision must be 'no-stream', 'any', 'stream-exists' or a bigint >= 0, got ${String(expected)}`,
    );
  }
  // Length first: a caller's oversized batch is refused without walking it.
  if (events.length === 0) throw invalid('EVENT_STORE.EMPTY_APPEND', `no events to append to ${stream}`);
  if (events.length > maxEvents) {
    throw invalid(
      'EVENT_STORE.APPEND_TOO_LARGE',
      `${events.length} events in one append to ${stream}; at most ${maxEvents} are allowed`,
    );
  }
  const ids = new Set<string>();
  for (const event of events) {
    if (!isUuid(event.id))
      throw invalid('EVENT_STORE.INVALID_EVENT_ID', `event id is not a uuid: ${event.id}`);
    const id = event.id.toLowerCase();
    if (ids.has(id)) throw invalid('EVENT_STORE.DUPLICATE_EVENT_ID', `event id ${event.id} appears twice`);
    ids.add(id);
    if (typeof event.type !== 'string' || event.type.length === 0 || event.type.startsWith('$')) {
      throw invalid('EVENT_STORE.INVALID_EVENT_TYPE', `invalid event type: ${JSON.stringify(event.type)}`);
    }
  }
}

/**
 * Checks an `appendMany` as a whole before any adapter touches its database: each entry as
 * `validateAppend` does, at most `maxEvents` events in all, each stream and each event id once.
 */
export function validateAppendMany(appends: readonly StreamAppend[], maxEvents: number): void {
  if (!Array.isArray(appends) || appends.length === 0) {
    throw invalid('EVENT_STORE.EMPTY_APPEND', 'no streams to append to');
  }
  // Length first, as for one append: an oversized batch is refused without walking it.
  let total = 0;
  for (const entry of appends) total += Array.isArray(entry?.events) ? entry.events.length : 0;
  if (total > maxEvents) {
    throw invalid(
      'EVENT_STORE.APPEND_TOO_LARGE',
      `${total} events in one append to ${appends.length} streams; at most ${maxEvents} are allowed`,
    );
  }
  const streams = new Set<string>();
  const ids = new Set<string>();
  for (const entry of appends) {
    validateAppend(entry?.stream, entry?.events ?? [], entry?.expected, maxEvents);
    if (streams.has(entry.stream)) {
      throw invalid('EVENT_STORE.DUPLICATE_STREAM', `stream ${entry.stream} appears twice in one append`);
    }
    streams.add(entry.stream);
    for (const event of entry.events) {
      const id = event.id.toLowerCase();
      if (ids.has(id)) throw invalid('EVENT_STORE.DUPLICATE_EVENT_ID', `event id ${event.id} appears twice`);
      ids.add(id);
    }
  }
}

function invalid(code: string, message: string): AppError {
  return new AppError('validation', code, message);
}

/** The error for an append whose ids are stored only in part (or in another stream). */
export function partialDuplicate(stream: string, storedIds: readonly string[]): AppError {
  return new AppError(
    'conflict',
    'EVENT_STORE.PARTIAL_DUPLICATE',
    `some of the events appended to ${stream} are already stored (${storedIds.join(', ')}), but not all of them in this stream`,
    { stream, storedIds: [...storedIds] },
  );
}
