import type { Kysely, Transaction } from 'kysely';
import type { ReadModelTables } from './db.ts';

/** A projection's row in `projection_checkpoints`, with int8 columns as bigints. */
export interface Checkpoint {
  name: string;
  version: number;
  position: bigint;
  rebuilds: number;
  lastError: string | null;
  failedEventId: string | null;
  failedPosition: bigint | null;
  updatedAt: Date;
}

type Db = Kysely<ReadModelTables> | Transaction<ReadModelTables>;

/** Thrown inside a batch transaction when another runner moved the checkpoint first. */
export class CheckpointMovedError extends Error {
  constructor(name: string, expected: bigint) {
    super(`checkpoint of ${name} is no longer at ${expected}`);
    this.name = 'CheckpointMovedError';
  }
}

/** The checkpoint row of `name`, if the projection has ever been started. */
export async function readCheckpoint(db: Db, name: string): Promise<Checkpoint | undefined> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    name: row.name,
    version: row.version,
    position: BigInt(row.position),
    rebuilds: row.rebuilds,
    lastError: row.last_error,
    failedEventId: row.failed_event_id,
    failedPosition: row.failed_position === null ? null : BigInt(row.failed_position),
    updatedAt: row.updated_at,
  };
}

/**
 * The checkpoint row of a projection, created at position 0 on first sight. A new row takes the
 * projection's version: its tables are empty, so whatever it builds is built by this version.
 */
export async function ensureCheckpoint(
  db: Db,
  name: string,
  version: number,
  now: Date,
): Promise<Checkpoint> {
  await db
    .insertInto('projection_checkpoints')
    .values({ name, version, position: '0', updated_at: now, last_error: null, failed_event_id: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await readCheckpoint(db, name);
  if (!row) throw new Error(`checkpoint of ${name} vanished`);
  return row;
}

/**
 * Compare-and-set: moves the checkpoint from `expected` to `next` (and clears a recorded failure)
 * only if it is still at `expected`; otherwise throws CheckpointMovedError so the caller's
 * transaction — and with it the batch — rolls back. Taken first in the batch transaction, so
 * competing runners queue on the row lock and the loser fails before doing any work.
 */
export async function advanceCheckpoint(
  trx: Transaction<ReadModelTables>,
  name: string,
  expected: bigint,
  next: bigint,
  now: Date,
): Promise<void> {
  if (next <= expected)
    throw new Error(`refusing to move checkpoint of ${name} back from ${expected} to ${next}`);
  // RETURNING rather than the affected-row count, which the PGlite dialect does not report.
  const row = await trx
    .updateTable('projection_checkpoints')
    .set({
      position: next.toString(),
      updated_at: now,
      last_error: null,
      failed_event_id: null,
      failed_position: null,
    })
    .where('name', '=', name)
    .where('position', '=', expected.toString())
    .returning('name')
    .executeTakeFirst();
  if (!row) throw new CheckpointMovedError(name, expected);
}

/** Records why a projection stopped, for status readers in any process. */
export async function recordFailure(
  db: Db,
  name: string,
  failure: { error: string; eventId: string; position: bigint },
  now: Date,
): Promise<void> {
  await db
    .updateTable('projection_checkpoints')
    .set({
      last_error: failure.error,
      failed_event_id: failure.eventId,
      failed_position: failure.position.toString(),
      updated_at: now,
    })
    .where('name', '=', name)
    .execute();
}

/** Forgets a recorded failure (before a retry). */
export async function clearFailure(db: Db, name: string, now: Date): Promise<void> {
  await db
    .updateTable('projection_checkpoints')
    .set({ last_error: null, failed_event_id: null, failed_position: null, updated_at: now })
    .where('name', '=', name)
    .execute();
}

/** Claims the next rebuild number; unique across processes, so two rebuilds never share tables. */
export async function nextRebuildNumber(db: Db, name: string): Promise<number> {
  const row = await db
    .updateTable('projection_checkpoints')
    .set((eb) => ({ rebuilds: eb('rebuilds', '+', 1) }))
    .where('name', '=', name)
    .returning('rebuilds')
    .executeTakeFirstOrThrow();
  return row.rebuilds;
}

/**
 * Sets the checkpoint outright, in the transaction that swaps rebuilt tables in: those tables hold
 * exactly the events up to `position`, whatever the old checkpoint said. A runner that had gone
 * further then loses its next compare-and-set and resumes from here, re-applying onto the new tables.
 */
export async function resetCheckpoint(
  trx: Transaction<ReadModelTables>,
  name: string,
  position: bigint,
  version: number,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('projection_checkpoints')
    .set({
      position: position.toString(),
      version,
      updated_at: now,
      last_error: null,
      failed_event_id: null,
      failed_position: null,
    })
    .where('name', '=', name)
    .execute();
}
