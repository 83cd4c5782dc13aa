import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// The tamper-evident log (docs/audit.md). The append path is left as it is: a sealer that follows
// the log writes, in global order, one link per event into sy_es.event_chain and, every so often, a
// signed checkpoint over the chain's head into sy_es.event_chain_checkpoints. Hashes are hex text
// (64 characters) so that pg, PGlite and a third party's export read them the same way.
const statements = [
  `CREATE TABLE sy_es.event_chain (
    position bigint PRIMARY KEY,
    seq bigint NOT NULL UNIQUE CHECK (seq > 0),
    stream text NOT NULL,
    revision bigint NOT NULL CHECK (revision >= 0),
    event_hash text NOT NULL CHECK (length(event_hash) = 64),
    stream_hash text NOT NULL CHECK (length(stream_hash) = 64),
    chain_hash text NOT NULL CHECK (length(chain_hash) = 64),
    UNIQUE (stream, revision)
  )`,
  `CREATE TABLE sy_es.event_chain_checkpoints (
    position bigint PRIMARY KEY,
    seq bigint NOT NULL,
    chain_hash text NOT NULL CHECK (length(chain_hash) = 64),
    signed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    signature text NOT NULL
  )`,
  // As the events themselves: no statement may rewrite or remove a link or a checkpoint. Whoever can
  // disable the trigger can still rewrite them — which the signed checkpoints, kept elsewhere, catch.
  `CREATE FUNCTION sy_es.reject_chain_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
      USING ERRCODE = 'restrict_violation';
  END
  $$`,
  `CREATE TRIGGER event_chain_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON sy_es.event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION sy_es.reject_chain_change()`,
  `CREATE TRIGGER event_chain_checkpoints_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON sy_es.event_chain_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION sy_es.reject_chain_change()`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single statement at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}
