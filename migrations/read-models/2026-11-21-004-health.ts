import type { Kysely } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // Owned by the `health` projection (ServerHealthChanged): the status and since when.
  await db.schema
    .createTable('server_health')
    .addColumn('server_id', 'uuid', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('since', 'timestamptz', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('error', 'text')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();

  // Not a projection's table and not rebuilt: the latest check of each server, written directly by
  // the health checker on every check. Per-check telemetry, not history — the transitions are the
  // audited part, as events.
  await db.schema
    .createTable('server_health_probes')
    .addColumn('server_id', 'uuid', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('error', 'text')
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('server_health_probes').execute();
  await db.schema.dropTable('server_health').execute();
}
