import type { Kysely } from 'kysely';
import type { ReadModelTables } from '../projections/db.ts';

/**
 * Where a process manager records how far into the global log it has turned events into inputs.
 * Inputs are idempotent (command ids derive from the triggering event), so a checkpoint that lags
 * after a crash only replays, never loses.
 */
export function sagaCheckpoint(db: Kysely<ReadModelTables>, name: string) {
  const anyDb = db as unknown as Kysely<{
    saga_checkpoints: { name: string; position: string; updated_at: Date };
  }>;
  return {
    async load(): Promise<bigint> {
      const row = await anyDb
        .selectFrom('saga_checkpoints')
        .select('position')
        .where('name', '=', name)
        .executeTakeFirst();
      return row ? BigInt(row.position) : 0n;
    },
    async save(position: bigint): Promise<void> {
      await anyDb
        .insertInto('saga_checkpoints')
        .values({ name, position: position.toString(), updated_at: new Date() })
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({ position: position.toString(), updated_at: new Date() }),
        )
        .execute();
    },
  };
}
