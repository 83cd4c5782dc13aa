import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
//
// Every resource records its tenant and owner. Rows already there get what a rebuild from their
// events gives (events written before tenancy read as the default tenant's, owner unknown), so the
// projections need no rebuild: the built-in template source was always everyone's (tenant null),
// and templates carry the tenant and owner of the source that published them.

const OWNED = ['servers', 'template_sources', 'templates', 'projects', 'code_analyses'] as const;

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['servers', 'tool_calls', 'projects', 'code_analyses']) {
    await db.schema
      .alterTable(table)
      .addColumn('tenant', 'text', (c) => c.notNull().defaultTo('default'))
      .execute();
  }
  // Nullable: null is a template (source) that every tenant reads.
  for (const table of ['template_sources', 'templates']) {
    await db.schema
      .alterTable(table)
      .addColumn('tenant', 'text', (c) => c.defaultTo('default'))
      .execute();
  }
  for (const table of OWNED) {
    await db.schema
      .alterTable(table)
      .addColumn('owner', 'text', (c) => c.notNull().defaultTo('unknown'))
      .execute();
  }
  await sql`UPDATE template_sources SET tenant = NULL WHERE built_in`.execute(db);
  await sql`UPDATE templates SET tenant = NULL
    WHERE source IN (SELECT name FROM template_sources WHERE built_in)`.execute(db);

  // The lists a tenant pages through, in their order, within the tenant.
  await db.schema
    .createIndex('servers_tenant_name_id')
    .on('servers')
    .columns(['tenant', 'name', 'id'])
    .execute();
  await sql`CREATE INDEX tool_calls_tenant_started ON tool_calls (tenant, started_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX projects_tenant_generated ON projects (tenant, generated_at DESC, project_id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX code_analyses_tenant_analyzed ON code_analyses (tenant, analyzed_at DESC, analysis_id DESC)`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  for (const index of [
    'servers_tenant_name_id',
    'tool_calls_tenant_started',
    'projects_tenant_generated',
    'code_analyses_tenant_analyzed',
  ]) {
    await db.schema.dropIndex(index).execute();
  }
  for (const table of OWNED) await db.schema.alterTable(table).dropColumn('owner').execute();
  for (const table of [
    'servers',
    'tool_calls',
    'projects',
    'code_analyses',
    'template_sources',
    'templates',
  ]) {
    await db.schema.alterTable(table).dropColumn('tenant').execute();
  }
}
