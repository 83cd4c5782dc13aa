import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
// The `catalog` projection owns these tables. No serial/identity columns (a rebuild copies tables
// with LIKE … INCLUDING ALL) and no foreign keys (LIKE does not copy them, and the projection must
// apply events in log order whatever the servers projection has seen).

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('catalog_state')
    .addColumn('server_id', 'uuid', (c) => c.primaryKey())
    .addColumn('hash', 'text')
    .addColumn('server_revision', 'bigint')
    .addColumn('server_info', 'jsonb')
    .addColumn('protocol_version', 'text')
    .addColumn('instructions', 'text')
    .addColumn('capabilities', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('discovered_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('failed_at', 'timestamptz')
    .addColumn('failed_attempt', 'integer')
    .addColumn('will_retry', 'boolean')
    .addColumn('cleared_at', 'timestamptz')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('server_tools')
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('input_schema', 'jsonb', (c) => c.notNull())
    .addColumn('output_schema', 'jsonb')
    .addColumn('annotations', 'jsonb')
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_tools_pkey', ['server_id', 'name'])
    .execute();

  await db.schema
    .createTable('server_resources')
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('mime_type', 'text')
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_resources_pkey', ['server_id', 'uri'])
    .execute();

  await db.schema
    .createTable('server_resource_templates')
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('uri_template', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('mime_type', 'text')
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_resource_templates_pkey', ['server_id', 'uri_template'])
    .execute();

  await db.schema
    .createTable('server_prompts')
    .addColumn('server_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('arguments', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('server_prompts_pkey', ['server_id', 'name'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'server_prompts',
    'server_resource_templates',
    'server_resources',
    'server_tools',
    'catalog_state',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
