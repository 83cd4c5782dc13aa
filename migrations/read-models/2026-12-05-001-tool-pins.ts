import type { Kysely } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
//
// Tool pinning (rug pulls): per server and tool, the approved definition and the last change
// reported. Owned by the `catalog` projection, filled only by events that did not exist before this
// migration, so nothing needs a rebuild. No foreign keys and no serial columns (see 003-catalog).

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('server_tool_pins')
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('tool', 'text', (c) => c.notNull())
    .addColumn('approved_hash', 'text')
    .addColumn('approved_definition', 'jsonb')
    .addColumn('approved_at', 'timestamptz')
    .addColumn('approved_by', 'text')
    .addColumn('reported_hash', 'text')
    .addColumn('reported_at', 'timestamptz')
    .addPrimaryKeyConstraint('server_tool_pins_pkey', ['server_id', 'tool'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('server_tool_pins').execute();
}
