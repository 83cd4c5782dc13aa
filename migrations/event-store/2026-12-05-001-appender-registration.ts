import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// Appenders register before they take a transaction id, so that readers can tell the transactions
// that may still add events to the log from every other transaction on the server (see
// event-store/postgres/horizon.ts for why the global log's horizon needs exactly that).
// 0x53594541 ('SYEA') is the first key of the registration's advisory lock; the second is 0.
const statements = [
  `CREATE FUNCTION sy_es.register_appender() RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'sy_es.register_appender() must run before the transaction takes a transaction id'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'call it first in the appending transaction, before any write';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1398359361, 0);
    PERFORM set_config('sy_es.appending', 'on', true);
  END
  $$`,
  // An insert from a transaction that did not register would be invisible to the horizon: events
  // could commit below it after readers moved past, a silent gap. Refused instead.
  `CREATE FUNCTION sy_es.require_registered_appender() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF current_setting('sy_es.appending', true) IS DISTINCT FROM 'on' THEN
      RAISE EXCEPTION 'events may only be inserted by a transaction that called sy_es.register_appender() first'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NULL;
  END
  $$`,
  `CREATE TRIGGER events_registered_appender
    BEFORE INSERT ON sy_es.events
    FOR EACH STATEMENT EXECUTE FUNCTION sy_es.require_registered_appender()`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single statement at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}
