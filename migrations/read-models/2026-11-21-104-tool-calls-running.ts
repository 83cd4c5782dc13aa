import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // The abandon sweep asks for running calls older than a cutoff every minute: only the (few)
  // running rows, whatever the size of the history.
  await sql`CREATE INDEX tool_calls_running ON tool_calls (started_at) WHERE status = 'running'`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX tool_calls_running`.execute(db);
}
