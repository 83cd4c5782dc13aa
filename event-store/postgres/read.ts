import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AllFilter, ReadAllOptions, ReadStreamOptions } from '../../kernel/event-store.port.ts';
import { horizonXid } from './horizon.ts';
import {
  DEFAULT_PAGE_SIZE,
  type EventRow,
  type EventStoreTables,
  POSITION_STRIDE,
  toRecordedEvent,
} from './schema.ts';

/*
 * Every read of the global log stops at the horizon: events of transactions below it are final (no
 * event can later appear before them). horizon.ts says how the horizon is found and why that is
 * gap-safe.
 *
 * The horizon is applied as a position bound, not as a condition on tx_id: positions are
 * `tx_id * 2^20 + i` with i < 2^20, so `tx_id < H` is exactly `position < H * 2^20`. Each read is
 * then one range of the position index (or of (category, position) or (type, position)), whatever
 * the table's statistics say — a condition on tx_id, which no index serves, let the planner scan
 * the whole table (issue 10 measured one full scan per append from the held-back check).
 * postgres.plans.test.ts holds every query to an index.
 */
const horizonPosition = sql<string>`(${horizonXid}::text::bigint * ${sql.lit(POSITION_STRIDE.toString())}::bigint)`;
const belowHorizon = sql<SqlBool>`position < ${horizonPosition}`;

export async function readStreamEvents(
  db: Kysely<EventStoreTables>,
  stream: string,
  options: ReadStreamOptions = {},
): Promise<RecordedEvent[]> {
  const backwards = options.direction === 'backwards';
  const limit = pageLimit(options.maxCount, undefined);
  if (limit === 0) return [];
  let query = db
    .selectFrom('sy_es.events')
    .selectAll()
    .where('stream', '=', stream)
    .orderBy('revision', backwards ? 'desc' : 'asc');
  if (options.fromRevision !== undefined) {
    query = query.where('revision', backwards ? '<=' : '>=', options.fromRevision.toString());
  }
  if (limit !== undefined) query = query.limit(limit);
  const rows = await query.execute();
  return rows.map(toRecordedEvent);
}

export async function readStreamRevision(
  db: Kysely<EventStoreTables>,
  stream: string,
): Promise<bigint | undefined> {
  const row = await db
    .selectFrom('sy_es.streams')
    .select('revision')
    .where('stream_name', '=', stream)
    .executeTakeFirst();
  return row === undefined ? undefined : BigInt(row.revision);
}

/** A page of the global log, in position order, never past what is final (see above). */
export async function readAllEvents(
  db: Kysely<EventStoreTables>,
  options: ReadAllOptions = {},
): Promise<RecordedEvent[]> {
  const limit = pageLimit(options.maxCount, DEFAULT_PAGE_SIZE)!;
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('sy_es.events')
    .selectAll()
    .where('position', '>', (options.after ?? 0n).toString())
    .where(belowHorizon)
    .where((eb) => eb.and(filterConditions(options.filter)))
    .orderBy('position', 'asc')
    .limit(limit)
    .execute();
  return rows.map(toRecordedEvent);
}

/** A page of the log for a subscription, with what the same read saw of the log's end. */
export interface LogPage {
  events: RecordedEvent[];
  /** The read's horizon, as a position bound: every event below it is final. */
  horizon: bigint;
  /**
   * Whether events after the page that match its filter exist at or past the horizon — committed
   * or being written by a transaction older ones still hold back. A reader that finds some reads
   * again soon instead of waiting for a NOTIFY that may already have come and gone.
   */
  heldBack: boolean;
}

/**
 * A page of the global log as readAllEvents reads it, with the horizon and the held-back check of
 * the same statement (one snapshot, one copy of the lock table). A short page says the reader has
 * seen, through its filter, everything before the horizon — which is how a subscription knows it
 * has reached the live end of the log, however long ago its categories last had an event.
 */
export async function readLogPage(
  db: Kysely<EventStoreTables>,
  options: ReadAllOptions = {},
): Promise<LogPage> {
  const { limit, after, matching } = pageBounds(options);
  // The horizon once, in a CTE, used by both parts as an InitPlan value (so each is one range of
  // an index, statistics or not); the held-back check a scalar subquery, not EXISTS, whose ORDER BY
  // and LIMIT PostgreSQL drops (and then may scan the table for any row); the page joined to one
  // row, so that a row (of nulls) comes back when the page is empty.
  const { rows } = await sql<Partial<EventRow> & { horizon: string; held_back: boolean }>`
    WITH h AS MATERIALIZED (SELECT ${horizonPosition} AS horizon),
    page AS MATERIALIZED (
      SELECT * FROM sy_es.events
      WHERE position > ${after}::bigint AND position < (SELECT horizon FROM h) AND ${matching}
      ORDER BY position LIMIT ${limit}
    )
    SELECT (SELECT horizon FROM h)::text AS horizon,
      (
        SELECT position FROM sy_es.events
        WHERE position > ${after}::bigint AND position >= (SELECT horizon FROM h) AND ${matching}
        ORDER BY position LIMIT 1
      ) IS NOT NULL AS held_back,
      page.*
    FROM (SELECT 1) AS one LEFT JOIN page ON true
    ORDER BY page.position`.execute(db);
  const first = rows[0]!;
  const events = rows.filter((r) => r.position != null).map((r) => toRecordedEvent(r as EventRow));
  return { events, horizon: BigInt(first.horizon), heldBack: first.held_back };
}

/**
 * readLogPage for a database whose transactions run one at a time (PGlite behind its connection's
 * mutex): every committed event is final, since no transaction can still be running to commit one
 * before it, so the horizon is just past the log's last event and nothing is ever held back. One
 * range of the position index and one backward step of it — without the snapshot and lock-table
 * arithmetic, which cost PGlite three times the read itself.
 */
export async function readLogPageSerialized(
  db: Kysely<EventStoreTables>,
  options: ReadAllOptions = {},
): Promise<LogPage> {
  const { limit, after, matching } = pageBounds(options);
  const { rows } = await sql<Partial<EventRow> & { head: string }>`
    WITH page AS MATERIALIZED (
      SELECT * FROM sy_es.events WHERE position > ${after}::bigint AND ${matching}
      ORDER BY position LIMIT ${limit}
    )
    SELECT COALESCE((SELECT position FROM sy_es.events ORDER BY position DESC LIMIT 1), 0)::text AS head,
      page.*
    FROM (SELECT 1) AS one LEFT JOIN page ON true
    ORDER BY page.position`.execute(db);
  const events = rows.filter((r) => r.position != null).map((r) => toRecordedEvent(r as EventRow));
  return { events, horizon: BigInt(rows[0]!.head) + 1n, heldBack: false };
}

/** What a subscription's page reads: how many, after which position, and its filter as SQL. */
function pageBounds(options: ReadAllOptions) {
  const conditions = filterConditions(options.filter);
  return {
    limit: pageLimit(options.maxCount, DEFAULT_PAGE_SIZE)!,
    after: (options.after ?? 0n).toString(),
    matching: conditions.length === 0 ? sql<SqlBool>`true` : sql.join(conditions, sql` AND `),
  };
}

/** Position of the last final event of the global log (0n when there is none). */
export async function readHeadPosition(db: Kysely<EventStoreTables>): Promise<bigint> {
  const row = await db
    .selectFrom('sy_es.events')
    .select('position')
    .where(belowHorizon)
    .orderBy('position', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? 0n : BigInt(row.position);
}

/** EventStore.caughtUp: the horizon and the events below `position` from one statement's snapshot. */
export async function readCaughtUp(
  db: Kysely<EventStoreTables>,
  after: bigint,
  position: bigint,
  filter: AllFilter | undefined,
): Promise<boolean> {
  if (position <= after) return true;
  const row = await db
    .selectNoFrom((eb) => [
      sql<boolean>`${horizonPosition} > ${position.toString()}::bigint`.as('final'),
      eb
        .exists(
          eb
            .selectFrom('sy_es.events')
            .select(sql.lit(1).as('one'))
            .where('position', '>', after.toString())
            .where('position', '<=', position.toString())
            .where((w) => w.and(filterConditions(filter))),
        )
        .as('pending'),
    ])
    .executeTakeFirstOrThrow();
  return row.final && !row.pending;
}

export async function countEventsAfter(
  db: Kysely<EventStoreTables>,
  after: bigint,
  filter: AllFilter | undefined,
): Promise<number> {
  const row = await db
    .selectFrom('sy_es.events')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('position', '>', after.toString())
    .where(belowHorizon)
    .where((eb) => eb.and(filterConditions(filter)))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

function filterConditions(filter: AllFilter | undefined): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  // `= ANY(array)` rather than IN (…): an empty list is legal SQL and, as the filter says, matches nothing.
  if (filter?.categories) conditions.push(sql<SqlBool>`category = ANY(${[...filter.categories]}::text[])`);
  if (filter?.types) conditions.push(sql<SqlBool>`type = ANY(${[...filter.types]}::text[])`);
  return conditions;
}

function pageLimit(maxCount: number | undefined, fallback: number | undefined): number | undefined {
  if (maxCount === undefined) return fallback;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new AppError(
      'validation',
      'EVENT_STORE.INVALID_MAX_COUNT',
      `maxCount must be a non-negative integer`,
    );
  }
  return maxCount;
}
