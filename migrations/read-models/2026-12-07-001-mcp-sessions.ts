import type { Kysely } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
//
// MCP sessions that any gateway can serve: what one needs to take a session over (who opened it,
// what it is about, what was negotiated) and what the client set on it since (log level, resource
// subscriptions). Not a projection: gateways write it, keyed by a hash of the session id (the id is
// bearer-like and never stored), and delete idle rows.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mcp_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('scope', 'jsonb', (c) => c.notNull())
    .addColumn('initialize', 'jsonb', (c) => c.notNull())
    .addColumn('log_level', 'text')
    .addColumn('subscriptions', 'jsonb', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mcp_sessions_last_seen').on('mcp_sessions').column('last_seen').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mcp_sessions').execute();
}
