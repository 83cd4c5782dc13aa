import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

const statements = [
  `CREATE SCHEMA IF NOT EXISTS sy_es`,
  // One row per stream, holding the revision of its last event.
  `CREATE TABLE sy_es.streams (
    stream_name text PRIMARY KEY,
    revision bigint NOT NULL CHECK (revision >= 0)
  )`,
  // position = tx_id * 2^20 + index within the append: see event-store/postgres/read.ts for why
  // that order, read below the oldest running transaction, is gap-safe.
  `CREATE TABLE sy_es.events (
    position bigint PRIMARY KEY CHECK (position > 0),
    tx_id xid8 NOT NULL,
    id uuid NOT NULL UNIQUE,
    stream text NOT NULL,
    category text NOT NULL,
    revision bigint NOT NULL CHECK (revision >= 0),
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, revision)
  )`,
  `CREATE INDEX events_category_position ON sy_es.events (category, position)`,
  `CREATE INDEX events_type_position ON sy_es.events (type, position)`,
  // The log is the audit trail: no statement may rewrite or remove it, whatever the caller's rights
  // on the table. Statement-level, so even a DELETE matching no row is refused.
  `CREATE FUNCTION sy_es.reject_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'sy_es.events is append-only: % is not allowed', TG_OP
      USING ERRCODE = 'restrict_violation';
  END
  $$`,
  `CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON sy_es.events
    FOR EACH STATEMENT EXECUTE FUNCTION sy_es.reject_event_change()`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single statement at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}
