import type { Kysely } from 'kysely';

// Frozen migration: takes Kysely<any> and never imports app code.
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time, untyped on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('saga_checkpoints')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('saga_checkpoints').ifExists().execute();
}
