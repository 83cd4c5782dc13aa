import { type Kysely, sql } from 'kysely';
import type { NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import { AppError, WrongExpectedRevisionError } from '../../kernel/errors.ts';
import type { AppendResult, StreamAppend } from '../../kernel/event-store.port.ts';
import { categoryOf } from '../../kernel/streams.ts';
import { partialDuplicate, validateAppendMany } from '../append-validation.ts';
import { type EventStoreTables, MAX_EVENTS_PER_APPEND } from './schema.ts';
import { asStoredJson } from './stored-json.ts';

/**
 * Test-only hooks into the append transaction. Production code never sets them.
 */
export interface AppendTestHooks {
  /**
   * Runs inside the append's transaction after every row is written, just before COMMIT, once per
   * stream that got events. Awaiting holds the transaction (and its position range) open; throwing
   * rolls the whole append back.
   */
  beforeCommit?: (stream: string, events: readonly NewEvent[]) => Promise<void>;
}

interface ResultRow {
  next_revision: string;
  last_position: string;
  duplicate: boolean;
  /** append_serialized only. */
  recorded_at?: Date;
  previous_position?: string;
}

/** What a serialized append committed: the events that now follow `previous` in the log. */
export interface CommittedAppend {
  /** The log's head before the append. */
  previous: bigint;
  /** The events appended, as a reader of the log gets them, in position order. */
  events: RecordedEvent[];
}

/**
 * How the store appends. `serialized`: the database runs one transaction at a time (PGlite), so
 * `sy_es.append_serialized` (migrations/event-store/2026-12-06-001) does without the locks that
 * order concurrent appends, and `onCommitted` is told what each append added to the log.
 */
export interface AppendMode {
  hooks?: AppendTestHooks | undefined;
  serialized?: { onCommitted(committed: CommittedAppend): void };
}

/**
 * Appends to one or more streams in one transaction, in one statement: `sy_es.append_many`
 * (migrations/event-store/2026-12-05-002) does it all server-side, in the order that keeps the log
 * gap-safe — register as an appender, take the streams' locks (in one global order), then read
 * their revisions and the already stored ids, check, write, NOTIFY. One round trip matters: every
 * command appends, PGlite pays per statement, and a pg append used to be five statements.
 *
 * Arrays rather than one parameter per value, because an append may be far larger than the 65,535
 * parameters a statement can take; JSON goes in as text and is cast in SQL, so that neither driver
 * re-encodes it.
 */
export async function appendToStreams(
  db: Kysely<EventStoreTables>,
  appends: readonly StreamAppend[],
  mode: AppendMode,
): Promise<AppendResult[]> {
  validateAppendMany(appends, MAX_EVENTS_PER_APPEND);
  const events = appends.flatMap((a) => a.events);
  const data = events.map((e) => JSON.stringify(e.data ?? null));
  const metadata = events.map((e) => JSON.stringify(e.metadata));
  const args = sql`
      ${appends.map((a) => a.stream)}::text[],
      ${appends.map((a) => categoryOf(a.stream))}::text[],
      ${appends.map((a) => String(a.expected))}::text[],
      ${appends.map((a) => a.events.length)}::int[],
      ${events.map((e) => e.id.toLowerCase())}::uuid[],
      ${events.map((e) => e.type)}::text[],
      ${data}::text[],
      ${metadata}::text[]`;
  // One stream (every command, a lone tool call): the function that skips numbering entries.
  const serialized = sql.raw(
    appends.length === 1 ? 'sy_es.append_serialized_one' : 'sy_es.append_serialized',
  );
  const statement = mode.serialized
    ? sql<ResultRow>`
    SELECT next_revision::text AS next_revision, last_position::text AS last_position, duplicate,
      recorded_at, previous_position::text AS previous_position
    FROM ${serialized}(${args})`
    : sql<ResultRow>`
    SELECT next_revision::text AS next_revision, last_position::text AS last_position, duplicate
    FROM sy_es.append_many(${args})`;
  const hooks = mode.hooks;
  try {
    const beforeCommit = hooks?.beforeCommit;
    const rows = beforeCommit
      ? await db.transaction().execute(async (trx) => {
          const { rows } = await statement.execute(trx);
          for (const [k, entry] of appends.entries()) {
            if (!rows[k]?.duplicate) await beforeCommit(entry.stream, entry.events);
          }
          return rows;
        })
      : (await statement.execute(db)).rows;
    mode.serialized?.onCommitted(committed(appends, rows, data, metadata));
    return rows.map((row) => ({
      nextExpectedRevision: BigInt(row.next_revision),
      position: BigInt(row.last_position),
      duplicate: row.duplicate,
    }));
  } catch (err) {
    throw translateError(err, appends);
  }
}

/**
 * The events a serialized append stored, rebuilt from its answer: entry k's events end at its
 * last position and revision, one apart; a replayed entry added nothing. Data and metadata are
 * the JSON that was stored, in the key order jsonb gives it back, so that a reader handed these
 * events sees exactly what one reading them from the log would.
 */
function committed(
  appends: readonly StreamAppend[],
  rows: readonly ResultRow[],
  data: readonly string[],
  metadata: readonly string[],
): CommittedAppend {
  const events: RecordedEvent[] = [];
  let first = 0;
  for (const [k, entry] of appends.entries()) {
    const row = rows[k]!;
    const count = entry.events.length;
    if (!row.duplicate) {
      const lastPosition = BigInt(row.last_position);
      const lastRevision = BigInt(row.next_revision);
      for (const [j, event] of entry.events.entries()) {
        const back = BigInt(count - 1 - j);
        events.push({
          id: event.id.toLowerCase(),
          type: event.type,
          stream: entry.stream,
          revision: lastRevision - back,
          position: lastPosition - back,
          data: asStoredJson(data[first + j]!),
          metadata: asStoredJson(metadata[first + j]!) as RecordedEvent['metadata'],
          recordedAt: row.recorded_at!,
        });
      }
    }
    first += count;
  }
  return { previous: BigInt(rows[0]?.previous_position ?? '0'), events };
}

/**
 * The function's own errors carry JSON in DETAIL; an id taken by another stream's concurrent append
 * surfaces as a unique violation on `id`.
 */
function translateError(err: unknown, appends: readonly StreamAppend[]): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown; detail?: unknown };
  const detail = () => JSON.parse(String(e.detail)) as Record<string, unknown>;
  if (e?.code === 'SYE01') {
    const d = detail() as { stream: string; expected: string; actual: string };
    return new WrongExpectedRevisionError(
      d.stream,
      d.expected,
      d.actual === 'no-stream' ? 'no-stream' : BigInt(d.actual),
    );
  }
  if (e?.code === 'SYE02') {
    const d = detail() as { stream: string; storedIds: string[] };
    return partialDuplicate(d.stream, d.storedIds);
  }
  if (e?.code === '23505' && String(e.constraint ?? e.message ?? '').includes('events_id_key')) {
    const streams = appends.map((a) => a.stream).join(', ');
    return new AppError(
      'conflict',
      'EVENT_STORE.DUPLICATE_EVENT_ID',
      `an event id appended to ${streams} is already stored in another stream`,
      { streams: appends.map((a) => a.stream) },
    );
  }
  return err;
}
