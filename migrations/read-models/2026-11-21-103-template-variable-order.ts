import type { Kysely } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // The manifest's variables in the author's order (a jsonb object does not keep key order);
  // null for versions published before events carried it.
  await db.schema.alterTable('templates').addColumn('variable_order', 'jsonb').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('templates').dropColumn('variable_order').execute();
}
