import type { NewEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import { isUuid } from '../kernel/ids.ts';
import type { ExpectedRevision } from './event-store.port.ts';

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
  if (typeof expected === 'bigint' && expected < 0n) {
    throw invalid('EVENT_STORE.INVALID_EXPECTED_REVISION', `expected revision must be >= 0, got ${expected}`);
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
