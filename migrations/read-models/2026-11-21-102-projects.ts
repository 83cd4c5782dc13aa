import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
// The `projects` projection owns projects and code_analyses. No serial/identity columns and no
// foreign keys (a rebuild copies these tables with LIKE … INCLUDING ALL).

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('project_id', 'uuid', (c) => c.primaryKey())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('variables', 'jsonb', (c) => c.notNull())
    .addColumn('files', 'jsonb', (c) => c.notNull())
    .addColumn('file_count', 'integer', (c) => c.notNull())
    .addColumn('total_bytes', 'bigint', (c) => c.notNull())
    .addColumn('overwrite', 'boolean', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('generated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
  // Newest first, with the id as tie-breaker: the keyset of every listing, filtered or not.
  await sql`CREATE INDEX projects_generated ON projects (generated_at DESC, project_id DESC)`.execute(db);
  await sql`CREATE INDEX projects_template_generated ON projects (template, generated_at DESC, project_id DESC)`.execute(
    db,
  );

  await db.schema
    .createTable('code_analyses')
    .addColumn('analysis_id', 'uuid', (c) => c.primaryKey())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('project_id', 'uuid')
    .addColumn('totals', 'jsonb', (c) => c.notNull())
    .addColumn('languages', 'jsonb', (c) => c.notNull())
    .addColumn('complexity', 'jsonb', (c) => c.notNull())
    .addColumn('skipped', 'jsonb', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('analyzed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX code_analyses_project ON code_analyses (project_id, analyzed_at DESC)`.execute(db);
  await sql`CREATE INDEX code_analyses_analyzed ON code_analyses (analyzed_at DESC, analysis_id DESC)`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('code_analyses').execute();
  await db.schema.dropTable('projects').execute();
}
