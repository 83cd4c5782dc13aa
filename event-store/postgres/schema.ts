import type { EventMetadata, RecordedEvent } from '../../kernel/envelope.ts';

/** The tables of migrations/event-store, as Kysely sees them. int8 columns arrive as strings. */
export interface EventStoreTables {
  'sy_es.streams': {
    stream_name: string;
    revision: string;
  };
  'sy_es.events': {
    position: string;
    tx_id: string;
    id: string;
    stream: string;
    category: string;
    revision: string;
    type: string;
    data: unknown;
    metadata: EventMetadata;
    recorded_at: Date;
  };
}

/** Channel NOTIFYed by every append, so subscribers wake without waiting for their poll. */
export const APPEND_CHANNEL = 'sy_es_appended';

/**
 * Positions are `tx_id * 2^20 + index within the append`, which caps an append at 2^20 events. The
 * multiplier is part of the stored data: never change it.
 */
export const POSITION_STRIDE = 1_048_576n;
export const MAX_EVENTS_PER_APPEND = 1_048_576;

/** Namespace (first key) of the two-key advisory locks that guard streams. */
export const STREAM_LOCK_NAMESPACE = 0x5359_4553; // 'SYES'

/**
 * First key of the shared advisory lock every appending transaction holds (second key 0), taken by
 * `sy_es.register_appender()` (migrations/event-store/2026-12-05-001). See horizon.ts.
 */
export const APPENDER_LOCK_NAMESPACE = 0x5359_4541; // 'SYEA'

/** Default page size of readAll and of a subscription's catch-up. */
export const DEFAULT_PAGE_SIZE = 1000;

export type EventRow = EventStoreTables['sy_es.events'];

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    stream: row.stream,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
