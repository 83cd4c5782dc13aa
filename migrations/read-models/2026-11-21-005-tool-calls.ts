import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
// Owned by the `tool_calls` projection. No serial/identity columns: a rebuild copies this table
// with LIKE … INCLUDING ALL.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tool_calls')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('server_name', 'text', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('running', 'succeeded', 'failed', 'abandoned')`),
    )
    .addColumn('is_error', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('arguments', 'jsonb', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('duration_ms', 'integer')
    .addColumn('result_bytes', 'bigint')
    .addColumn('result_hash', 'text')
    .addColumn('error', 'jsonb')
    .addColumn('abandon_reason', 'text')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
  // Newest first, with the id as tie-breaker: the keyset of every listing, filtered or not.
  await sql`CREATE INDEX tool_calls_started ON tool_calls (started_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX tool_calls_server_started ON tool_calls (server_id, started_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX tool_calls_tool_started ON tool_calls (tool, started_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX tool_calls_actor_started ON tool_calls (actor, started_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX tool_calls_server_name ON tool_calls (server_name)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('tool_calls').execute();
}
