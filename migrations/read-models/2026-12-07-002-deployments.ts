import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.
//
// Deployments: one row per deployment saga (deployment-<id>), its steps folded into a JSON column.
// Owned by the `deployments` projection, filled only by events that did not exist before this
// migration, so nothing needs a rebuild.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('server_name', 'text', (c) => c.notNull())
    .addColumn('server_id', 'uuid')
    .addColumn('source', 'jsonb', (c) => c.notNull())
    .addColumn('replicas', 'integer', (c) => c.notNull())
    .addColumn('health', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('current_step', 'text')
    .addColumn('steps', 'jsonb', (c) => c.notNull())
    .addColumn('stop_reason', 'text')
    .addColumn('live_revision', 'integer')
    .addColumn('failed_step', 'text')
    .addColumn('reason', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('stream_revision', 'int8', (c) => c.notNull())
    .addColumn('position', 'int8', (c) => c.notNull())
    .execute();
  // Lists are newest first, of one tenant, by server or status.
  await sql`CREATE INDEX deployments_tenant_requested ON deployments (tenant, requested_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX deployments_server_requested ON deployments (server_name, requested_at DESC, id DESC)`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('deployments').execute();
}
