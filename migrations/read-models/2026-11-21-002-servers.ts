import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
// No serial/identity columns: a rebuild copies this table with LIKE … INCLUDING ALL, and a copied
// sequence default would still point at the old table's sequence.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('servers')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('transport_type', 'text', (c) => c.notNull())
    .addColumn('transport', 'jsonb', (c) => c.notNull())
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('active', 'removed')`))
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .execute();
  // Not unique: names are unique among active servers by the write side's reservations, and a read
  // model that refused an event would stop the projection rather than show the log as it is.
  await db.schema
    .createIndex('servers_status_name_id')
    .on('servers')
    .columns(['status', 'name', 'id'])
    .execute();
  await db.schema.createIndex('servers_name').on('servers').column('name').execute();
  await sql`CREATE INDEX servers_tags ON servers USING gin (tags)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('servers').execute();
}
