import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
// The `templates` projection owns templates, template_versions, template_sources and
// template_validations. No serial/identity columns and no foreign keys: a rebuild copies these
// tables with LIKE … INCLUDING ALL, which copies neither sequences' ownership nor foreign keys.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // The catalog: one row per template ever published, its current version. A removed template keeps
  // its row with removed_at set; a later publish clears it.
  await db.schema
    .createTable('templates')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('stack', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('manifest', 'jsonb', (c) => c.notNull())
    .addColumn('files', 'jsonb', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('published_at', 'timestamptz', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .addColumn('versions', 'integer', (c) => c.notNull())
    // Written by the projection (not a generated column), so how a template is found can change
    // with a new projection version and a rebuild rather than a migration.
    .addColumn('search', sql`tsvector`, (c) => c.notNull())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX templates_search ON templates USING gin (search)`.execute(db);
  await sql`CREATE INDEX templates_tags ON templates USING gin (tags)`.execute(db);
  await db.schema.createIndex('templates_stack').on('templates').columns(['stack', 'name']).execute();
  await db.schema.createIndex('templates_source').on('templates').column('source').execute();

  // Every content ever published per template: a version number republished with other content is
  // a second row, the same content published again is the same row.
  await db.schema
    .createTable('template_versions')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('manifest', 'jsonb', (c) => c.notNull())
    .addColumn('files', 'jsonb', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('published_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('template_versions_pkey', ['name', 'content_hash'])
    .execute();
  await sql`CREATE INDEX template_versions_name_revision ON template_versions (name, revision DESC)`.execute(
    db,
  );

  await db.schema
    .createTable('template_sources')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('interval_ms', 'integer')
    .addColumn('built_in', 'boolean', (c) => c.notNull())
    .addColumn('registered_at', 'timestamptz', (c) => c.notNull())
    .addColumn('removed_at', 'timestamptz')
    .addColumn('last_revision', 'text')
    .addColumn('last_commit', 'text')
    .addColumn('last_synced_at', 'timestamptz')
    .addColumn('templates', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('rejected', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('last_error', 'text')
    .addColumn('last_error_code', 'text')
    .addColumn('last_failed_at', 'timestamptz')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('registered', 'synced', 'failed', 'removed')`),
    )
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('template_validations')
    .addColumn('validation_id', 'uuid', (c) => c.primaryKey())
    .addColumn('target_kind', 'text', (c) =>
      c.notNull().check(sql`target_kind IN ('template', 'path', 'sync')`),
    )
    // The template's name for a published template; null for a path or a directory found by a sync.
    .addColumn('template', 'text')
    .addColumn('version', 'text')
    // The workspace-relative path, or the directory within the source for a sync.
    .addColumn('path', 'text')
    .addColumn('source', 'text')
    .addColumn('content_hash', 'text')
    .addColumn('ok', 'boolean', (c) => c.notNull())
    .addColumn('issues', 'jsonb', (c) => c.notNull())
    .addColumn('files', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('validated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX template_validations_template ON template_validations (template, validated_at DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX template_validations_validated ON template_validations (validated_at DESC, validation_id DESC)`.execute(
    db,
  );

  // Not a projection's table and not rebuilt: the files of template versions, content-addressed,
  // written by whoever reads a source before it publishes. Events name files by sha256 only.
  await db.schema
    .createTable('template_blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('content', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Not a projection's table and not rebuilt: when each source was last checked, written on every
  // check. A check that finds nothing new appends no event, so this is the only trace of it.
  await db.schema
    .createTable('template_source_checks')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  for (const t of [
    'template_source_checks',
    'template_blobs',
    'template_validations',
    'template_sources',
    'template_versions',
    'templates',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
