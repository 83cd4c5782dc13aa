import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Logger } from '../../kernel/logger.ts';
import { APPENDER_LOCK_NAMESPACE, type EventStoreTables } from './schema.ts';

/*
 * The horizon of the global log, and why reading below it is gap-safe.
 *
 * An event's position is `tx_id * 2^20 + i`, where tx_id is the id of the transaction that appended
 * it and i < 2^20 its index in that transaction. So positions are unique and ordered by (tx_id, i).
 *
 * Transactions do not commit in id order: T1 (id 100) can still be running when T2 (id 101) commits.
 * A reader that took "everything after my last position" would then read T2's events, move its
 * checkpoint past 100 * 2^20, and never see T1's events when T1 commits — a silent gap.
 *
 * So a reader returns only events whose tx_id is below a horizon H such that no transaction with an
 * id below H can still add an event. xmin of the reader's snapshot (the oldest transaction running
 * anywhere on the server) is such an H, but it ties the log to every transaction of the server: an
 * analyst's idle `BEGIN` in psql, another application's long batch, another test file's open
 * transaction — each would hold back the relay, every projection and every reader until it ended.
 * H is bounded by appending transactions only:
 *
 * 1. An appender registers before anything else: `sy_es.register_appender()` refuses to run in a
 *    transaction that already has an id, then takes a shared advisory lock (APPENDER_LOCK_NAMESPACE,
 *    0) held until the transaction ends, and marks the transaction; a trigger refuses inserts into
 *    sy_es.events from unmarked transactions. Hence: a transaction that has an id and does not hold
 *    the registration lock has appended nothing and never will (it can no longer register).
 * 2. The reader's statement has one snapshot S (taken when it starts). The statement then copies the
 *    lock table once (`pg_locks`: all partitions of the main lock table, where advisory and
 *    transaction-id locks live, are locked while it is copied, so the copy is one instant L > S).
 *    H = the smallest of xmax(S) and of the ids in xip(S) (running at S), leaving out every id whose
 *    owner in the copy holds that id's lock but not the registration lock of this database.
 *    The owner is the backend (pg_locks.pid), not the transaction as pg_locks names it: the copy
 *    reads each lock holder's current local transaction id unguarded, and a committing backend
 *    resets it, so one copy can show an appender's id lock under "11/7179" and its registration
 *    under "11/0" — matched by that name, the appender looked like a stranger and the horizon
 *    passed its events before they were visible (a gap the chaos run and a stress probe found).
 *    Matching by backend is exact: a backend runs one transaction at a time and releases a
 *    transaction's locks (which needs the partition locks the copy holds) before the next begins,
 *    so every transaction-level lock of a backend in the copy belongs to one transaction. A
 *    prepared transaction's locks have no backend; its id is never left out.
 *
 * No event with tx_id < H can appear after such a read:
 * - an id below xmax(S) and not in xip(S) had ended at S: committed (all its events are visible in
 *   S and returned) or rolled back (it left none);
 * - an id in xip(S) below H was left out: at L its owner was running (it held its id lock) without
 *   the registration lock, so by 1. it appends nothing, ever;
 * - every id assigned after S is >= xmax(S) >= H; this covers transactions that registered but had
 *   no id yet, and all that start later.
 * The returned prefix of the log is therefore final.
 *
 * The windows, and why they are harmless:
 * - between registering and taking an id: registration comes first, so a registered transaction's
 *   future id is bounded by xmax as above;
 * - between PostgreSQL assigning an id and taking the lock on it: the owner looks not running, so its
 *   id stays in H (only conservative);
 * - an appender ending between S and L: its locks are gone from the copy, so its id stays in H.
 *   At commit PostgreSQL makes a transaction visible first, then releases its id lock, then its
 *   advisory locks: no copy can show an appender holding its id lock without its registration.
 * The registration lock is per database (an advisory lock's tag holds the database), so appenders to
 * other databases' logs count as strangers, as they should.
 *
 * The price: an appending transaction that stays open (slow, or stuck before COMMIT) holds back the
 * visible end of the log until it ends — it must, it may still commit events there. The store
 * reports that (`horizonStatus`, and a warning naming the backend once it lasts). Other transactions
 * hold nothing back. The lock table is read only when some transaction was running at S.
 */

/** 2^32: pg_locks shows 32-bit transaction ids; ids running at once differ by less than 2^31. */
const XID32 = '4294967296';

/**
 * Granted advisory and transaction-id locks (one copy of the lock table), and which transactions
 * hold this database's registration lock. Must be a single `pg_locks` scan: see 2. above.
 */
const lockCtes = sql`
  locks AS MATERIALIZED (
    SELECT locktype, database, transactionid, classid, objid, objsubid, mode, pid
    FROM pg_locks WHERE granted AND locktype IN ('transactionid', 'advisory')
  ),
  appending AS MATERIALIZED (
    SELECT pid FROM locks
    WHERE locktype = 'advisory' AND classid = ${sql.lit(APPENDER_LOCK_NAMESPACE)}::oid AND objid = 0::oid
      AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  ),
  running_ids AS MATERIALIZED (
    SELECT transactionid::text::bigint AS xid32, pid FROM locks
    WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock'
  )`;

/**
 * The horizon (an xid8) for the current statement's snapshot: events with `tx_id` below it are final.
 * A scalar subquery, evaluated once per statement, sharing the statement's snapshot.
 */
export const horizonXid: RawBuilder<string> = sql<string>`(
  WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s), ${lockCtes}
  SELECT LEAST(pg_snapshot_xmax(s), (
    SELECT min(x) FROM pg_snapshot_xip(s) AS x
    WHERE x::text::bigint % ${sql.lit(XID32)}::bigint NOT IN (
      SELECT xid32 FROM running_ids r
      WHERE r.pid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM appending a WHERE a.pid = r.pid)
    )
  )) FROM snapshot
)`;

/** What holds the global log's visible end, for monitoring. */
export interface HorizonStatus {
  /** Transaction id below which the log is final (events of transactions below it are readable). */
  horizon: bigint;
  /**
   * The oldest appending transaction still running, which holds the horizon; undefined when no
   * append is in flight.
   */
  heldBy:
    | {
        /** Backend process id (null for a prepared transaction). */
        pid: number | null;
        /** Its transaction id as pg_stat_activity and pg_locks show it (32 bits, no epoch). */
        xid: bigint;
        /** When the transaction started. */
        since: Date;
        /** `active`, `idle in transaction`, …, from pg_stat_activity. */
        state: string | null;
        applicationName: string | null;
      }
    | undefined;
  /** How long the horizon has been held by `heldBy` (ms; 0 when nothing holds it). */
  ageMs: number;
}

export async function readHorizonStatus(db: Kysely<EventStoreTables>): Promise<HorizonStatus> {
  const { rows } = await sql<{
    horizon: string;
    pid: number | null;
    xid: string | null;
    since: Date | null;
    state: string | null;
    application_name: string | null;
    age_ms: number | null;
  }>`
    WITH ${lockCtes},
    oldest AS (
      SELECT r.pid, r.xid32 FROM running_ids r WHERE r.pid IN (SELECT pid FROM appending)
      ORDER BY age(r.xid32::text::xid) DESC LIMIT 1
    )
    SELECT ${horizonXid}::text AS horizon, o.pid, o.xid32::text AS xid, a.xact_start AS since, a.state,
           a.application_name,
           extract(epoch FROM clock_timestamp() - a.xact_start)::float8 * 1000 AS age_ms
    FROM (SELECT 1) AS one
    LEFT JOIN oldest o ON true
    LEFT JOIN pg_stat_activity a ON a.pid = o.pid
  `.execute(db);
  const row = rows[0]!;
  if (row.xid === null) return { horizon: BigInt(row.horizon), heldBy: undefined, ageMs: 0 };
  const since = row.since ?? new Date();
  return {
    horizon: BigInt(row.horizon),
    heldBy: {
      pid: row.pid,
      xid: BigInt(row.xid),
      since,
      state: row.state,
      applicationName: row.application_name,
    },
    ageMs: Math.max(0, row.age_ms ?? 0),
  };
}

/** Warns at most this often about the same blocking transaction. */
const REWARN_MS = 60_000;
/** Looks at the lock table at most this often, however many subscribers are held back. */
const CHECK_EVERY_MS = 1_000;

/**
 * Makes a stalled log visible: subscribers that find events held back call `heldBack()`; when the
 * transaction holding the horizon has been open longer than `stallWarnMs`, one warning names its
 * backend (and again every minute while it lasts).
 */
export class HorizonWatch {
  private lastCheck = 0;
  private checking = false;
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly db: Kysely<EventStoreTables>,
    private readonly logger: Logger | undefined,
    private readonly stallWarnMs: number,
  ) {}

  heldBack(): void {
    const now = Date.now();
    if (!this.logger || this.checking || now - this.lastCheck < CHECK_EVERY_MS) return;
    this.lastCheck = now;
    this.checking = true;
    readHorizonStatus(this.db)
      .then((status) => this.report(status))
      // A failed look (connection closing, server gone) is not worth more than the next one.
      .catch(() => {})
      .finally(() => {
        this.checking = false;
      });
  }

  private report(status: HorizonStatus): void {
    const held = status.heldBy;
    if (!held || status.ageMs < this.stallWarnMs) return;
    const key = `${held.pid}:${held.xid}`;
    const now = Date.now();
    if (now - (this.warnedAt.get(key) ?? -Infinity) < REWARN_MS) return;
    for (const [k, at] of this.warnedAt) if (now - at >= REWARN_MS) this.warnedAt.delete(k);
    this.warnedAt.set(key, now);
    this.logger?.warn(
      {
        pid: held.pid,
        xid: held.xid.toString(),
        state: held.state,
        applicationName: held.applicationName,
        heldForMs: Math.round(status.ageMs),
      },
      `the event log is held back by appending transaction ${held.xid} (backend pid ${held.pid}, ${held.state ?? 'state unknown'}) open for ${Math.round(status.ageMs / 1000)} s: readers wait until it ends`,
    );
  }
}
