import { type Kysely, sql, type Transaction } from 'kysely';
import type { NewEvent } from '../../kernel/envelope.ts';
import { AppError, WrongExpectedRevisionError } from '../../kernel/errors.ts';
import { categoryOf } from '../../kernel/streams.ts';
import { partialDuplicate, validateAppend } from '../append-validation.ts';
import type { AppendResult, ExpectedRevision } from '../event-store.port.ts';
import {
  APPEND_CHANNEL,
  type EventStoreTables,
  MAX_EVENTS_PER_APPEND,
  POSITION_STRIDE,
  STREAM_LOCK_NAMESPACE,
} from './schema.ts';

/**
 * Test-only hooks into the append transaction. Production code never sets them.
 */
export interface AppendTestHooks {
  /**
   * Runs inside the append's transaction after every row is written, just before COMMIT. Awaiting
   * holds the transaction (and its position range) open; throwing rolls the append back.
   */
  beforeCommit?: (stream: string, events: readonly NewEvent[]) => Promise<void>;
}

/**
 * Appends `events` to `stream` in one transaction.
 *
 * Order of operations matters:
 * 0. The transaction registers as an appender before it has an id (see horizon.ts).
 * 1. The stream's advisory lock comes first, before anything that could assign the transaction an
 *    id. Once we hold it, every earlier append to this stream has committed or rolled back, so the
 *    id we get next is larger than theirs: within a stream, global positions follow revisions.
 * 2. Replays (every id already stored here) return the original result before the revision check,
 *    because a retried command carries the expected revision it had the first time.
 * 3. Then the expected-revision check, and the writes.
 */
export async function appendEvents(
  db: Kysely<EventStoreTables>,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  hooks: AppendTestHooks | undefined,
): Promise<AppendResult> {
  validateAppend(stream, events, expected, MAX_EVENTS_PER_APPEND);
  const ids = events.map((e) => e.id.toLowerCase());
  try {
    return await db.transaction().execute(async (trx) => {
      // Registering as an appender comes first (before anything can assign a transaction id), so
      // readers count this transaction in the log's horizon (horizon.ts). The stream lock is in
      // the same statement and not with the reads: a statement's snapshot is taken before it waits,
      // so reads in the same statement as the lock could miss the append we waited for.
      await sql`SELECT sy_es.register_appender(),
                       pg_advisory_xact_lock(${sql.lit(STREAM_LOCK_NAMESPACE)}, hashtext(${stream}))`.execute(
        trx,
      );

      const state = await readState(trx, stream, ids);
      if (state.stored.length > 0) {
        if (state.stored.length === ids.length && state.stored.every((row) => row.stream === stream)) {
          return {
            nextExpectedRevision: maxOf(state.stored.map((row) => BigInt(row.revision))),
            position: maxOf(state.stored.map((row) => BigInt(row.position))),
            duplicate: true,
          };
        }
        throw partialDuplicate(
          stream,
          state.stored.map((row) => row.id),
        );
      }
      checkExpected(stream, expected, state.revision);

      const firstRevision = (state.revision ?? -1n) + 1n;
      const lastRevision = firstRevision + BigInt(events.length) - 1n;
      await writeEvents(trx, stream, events, ids, firstRevision, lastRevision);
      await hooks?.beforeCommit?.(stream, events);

      return {
        nextExpectedRevision: lastRevision,
        position: state.txId * POSITION_STRIDE + BigInt(events.length - 1),
        duplicate: false,
      };
    });
  } catch (err) {
    throw translateError(err, stream);
  }
}

interface StreamState {
  /** This transaction's id; asking for it assigns it, which is safe only once the lock is held (see 1.). */
  txId: bigint;
  revision: bigint | undefined;
  /** Already stored events among the ids being appended (any stream). */
  stored: Array<{ id: string; stream: string; revision: string; position: string }>;
}

/** One round trip: PGlite pays per statement, and appends are the hot path of every command. */
async function readState(
  trx: Transaction<EventStoreTables>,
  stream: string,
  ids: string[],
): Promise<StreamState> {
  const { rows } = await sql<{ tx_id: string; revision: string | null; stored: StreamState['stored'] }>`
    SELECT pg_current_xact_id()::text AS tx_id,
           (SELECT revision FROM sy_es.streams WHERE stream_name = ${stream}) AS revision,
           COALESCE((SELECT json_agg(json_build_object('id', id, 'stream', stream,
                                                       'revision', revision::text, 'position', position::text))
                     FROM sy_es.events WHERE id = ANY(${ids}::uuid[])), '[]'::json) AS stored
  `.execute(trx);
  const row = rows[0]!;
  return {
    txId: BigInt(row.tx_id),
    revision: row.revision === null ? undefined : BigInt(row.revision),
    stored: row.stored,
  };
}

/**
 * The events, the stream's new revision and the NOTIFY (delivered only if and when we commit), in
 * one statement. Arrays rather than one parameter per value, because an append may be far larger
 * than the 65,535 parameters a statement can take; JSON goes in as text and is cast in SQL, so that
 * neither driver re-encodes it.
 */
async function writeEvents(
  trx: Transaction<EventStoreTables>,
  stream: string,
  events: readonly NewEvent[],
  ids: string[],
  firstRevision: bigint,
  lastRevision: bigint,
): Promise<void> {
  await sql`
    WITH appended AS (
      INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
      SELECT pg_current_xact_id()::text::bigint * ${POSITION_STRIDE.toString()}::bigint + e.ord - 1,
             pg_current_xact_id(), e.id, ${stream}, ${categoryOf(stream)},
             ${firstRevision.toString()}::bigint + e.ord - 1, e.type, e.data::jsonb, e.metadata::jsonb
      FROM unnest(${ids}::uuid[], ${events.map((e) => e.type)}::text[],
                  ${events.map((e) => JSON.stringify(e.data ?? null))}::text[],
                  ${events.map((e) => JSON.stringify(e.metadata))}::text[])
           WITH ORDINALITY AS e(id, type, data, metadata, ord)
    ), advanced AS (
      INSERT INTO sy_es.streams (stream_name, revision) VALUES (${stream}, ${lastRevision.toString()}::bigint)
      ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision
    )
    SELECT pg_notify(${APPEND_CHANNEL}, '')
  `.execute(trx);
}

function checkExpected(stream: string, expected: ExpectedRevision, current: bigint | undefined): void {
  const actual = current ?? 'no-stream';
  if (expected === 'any') return;
  if (expected === 'no-stream') {
    if (current !== undefined) throw new WrongExpectedRevisionError(stream, expected, actual);
    return;
  }
  if (expected === 'stream-exists') {
    if (current === undefined) throw new WrongExpectedRevisionError(stream, expected, actual);
    return;
  }
  if (current !== expected) throw new WrongExpectedRevisionError(stream, expected, actual);
}

/** An id taken by another stream's concurrent append surfaces as a unique violation on `id`. */
function translateError(err: unknown, stream: string): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e?.code === '23505' && String(e.constraint ?? e.message ?? '').includes('events_id_key')) {
    return new AppError(
      'conflict',
      'EVENT_STORE.DUPLICATE_EVENT_ID',
      `an event id appended to ${stream} is already stored in another stream`,
      { stream },
    );
  }
  return err;
}

function maxOf(values: readonly bigint[]): bigint {
  let max = values[0]!;
  for (const v of values) if (v > max) max = v;
  return max;
}
