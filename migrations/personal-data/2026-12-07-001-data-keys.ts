import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// The principals' data keys (crypto-shredding, docs/audit.md "Erasure"), in a schema of their own:
// outside the event log (append-only, hash-chained) and outside the read models (dropped and
// rebuilt at will). A key is deleted when its principal is erased: that delete is the erasure.
const statements = [
  'CREATE SCHEMA IF NOT EXISTS sy_pd',
  `CREATE TABLE sy_pd.data_keys (
    key_id text PRIMARY KEY,
    principal_id text NOT NULL UNIQUE,
    wrapped text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
];

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen and never see app types
export async function up(db: Kysely<any>): Promise<void> {
  for (const s of statements) await sql.raw(s).execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: as up
export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('DROP TABLE IF EXISTS sy_pd.data_keys').execute(db);
}
