import type { Kysely } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
//
// Toolsets: named sets of tools served at /toolsets/<name>/mcp. Owned by the `toolsets` projection,
// filled only by events that did not exist before this migration, so nothing needs a rebuild.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('toolsets')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tools', 'jsonb', (c) => c.notNull())
    .addColumn('revision', 'int8', (c) => c.notNull())
    .addColumn('position', 'int8', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('toolsets_tenant_name_key', ['tenant', 'name'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('toolsets').execute();
}
