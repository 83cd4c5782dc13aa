import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// sy_es.append_many: appends to several streams in one transaction and one round trip (a single
// statement). Entry k is stream p_streams[k] (category p_categories[k]) with expected revision
// p_expected[k] ('any', 'no-stream', 'stream-exists' or a number) and the next p_counts[k] events of
// p_ids/p_types/p_data/p_metadata. Returns one row per entry, in order. The caller validates the
// input (event-store/append-validation.ts); nothing here is reachable from outside the store.
//
// Order of operations (see event-store/postgres/append.ts and horizon.ts for why):
// 1. register as an appender, before anything can assign a transaction id;
// 2. take every stream's lock, in ascending lock-key order, so that two batches sharing streams
//    cannot deadlock; once held, every earlier append to these streams has ended, so the id this
//    transaction takes later is above theirs (within a stream, positions follow revisions);
// 3. read the streams' revisions and the already stored ids in later statements: a volatile
//    function's statements each take a new snapshot (READ COMMITTED), so they see the appends the
//    locks waited for — a read in the same statement as the lock would not;
// 4. an entry whose ids are all stored in its stream is a replay and returns its original result,
//    before its expected revision is checked (a retried command carries its first expectation);
//    ids stored in part, or elsewhere, fail the whole batch (SYE02), as does a wrong expected
//    revision (SYE01) — DETAIL is JSON for the caller's error;
// 5. one INSERT for every event, one upsert of the streams, one NOTIFY (delivered on commit only).
// Positions are tx_id * 2^20 + the event's index in the whole call (a replayed entry's slots stay
// unused).
const statements = [
  `CREATE FUNCTION sy_es.append_many(
    p_streams text[], p_categories text[], p_expected text[], p_counts int[],
    p_ids uuid[], p_types text[], p_data text[], p_metadata text[]
  ) RETURNS TABLE (next_revision bigint, last_position bigint, duplicate boolean)
  LANGUAGE plpgsql AS $$
  DECLARE
    n_entries int := coalesce(cardinality(p_streams), 0);
    firsts int[];
    owners int[];
    first_revisions bigint[] := array_fill(NULL::bigint, ARRAY[n_entries]);
    replayed boolean[] := array_fill(false, ARRAY[n_entries]);
    stored_revisions bigint[] := array_fill(NULL::bigint, ARRAY[n_entries]);
    stored_positions bigint[] := array_fill(NULL::bigint, ARRAY[n_entries]);
    entry record;
    tx bigint;
    appending boolean := false;
  BEGIN
    IF n_entries = 0 THEN
      RETURN;
    END IF;
    PERFORM sy_es.register_appender();
    PERFORM pg_advisory_xact_lock(1398359379, lock_key)
      FROM (SELECT DISTINCT hashtext(s) AS lock_key FROM unnest(p_streams) AS s ORDER BY 1) AS keys;

    -- firsts[k]: index (from 0) of entry k's first event; owners[i]: the entry of event i.
    firsts := ARRAY(SELECT (coalesce(sum(c) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::int
                    FROM unnest(p_counts) WITH ORDINALITY AS x(c, k) ORDER BY k);
    owners := ARRAY(SELECT k FROM generate_subscripts(p_counts, 1) AS k, generate_series(1, p_counts[k]) ORDER BY k);

    FOR entry IN
      SELECT e.k::int AS k, e.stream, e.expected, s.revision AS current, d.found, d.elsewhere,
             d.revision AS stored_revision, d.position AS stored_position
      FROM unnest(p_streams, p_expected) WITH ORDINALITY AS e(stream, expected, k)
      LEFT JOIN sy_es.streams s ON s.stream_name = e.stream
      CROSS JOIN LATERAL (
        SELECT count(*) AS found, count(*) FILTER (WHERE ev.stream <> e.stream) AS elsewhere,
               max(ev.revision) AS revision, max(ev.position) AS position
        FROM sy_es.events ev
        WHERE ev.id = ANY(p_ids[firsts[e.k] + 1 : firsts[e.k] + p_counts[e.k]])
      ) AS d
      ORDER BY e.k
    LOOP
      IF entry.found > 0 THEN
        IF entry.found = p_counts[entry.k] AND entry.elsewhere = 0 THEN
          replayed[entry.k] := true;
          stored_revisions[entry.k] := entry.stored_revision;
          stored_positions[entry.k] := entry.stored_position;
          CONTINUE;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'SYE02',
          MESSAGE = format('some of the events appended to %s are already stored, but not all of them in this stream', entry.stream),
          DETAIL = (SELECT json_build_object('stream', entry.stream, 'storedIds', json_agg(ev.id))::text
                    FROM sy_es.events ev
                    WHERE ev.id = ANY(p_ids[firsts[entry.k] + 1 : firsts[entry.k] + p_counts[entry.k]]));
      END IF;
      -- In parentheses: PL/pgSQL would end the IF's condition at the CASE's first THEN.
      IF NOT (CASE entry.expected
                WHEN 'any' THEN true
                WHEN 'no-stream' THEN entry.current IS NULL
                WHEN 'stream-exists' THEN entry.current IS NOT NULL
                ELSE entry.current IS NOT DISTINCT FROM entry.expected::bigint
              END) THEN
        RAISE EXCEPTION USING ERRCODE = 'SYE01',
          MESSAGE = format('stream %s expected at revision %s but is at %s', entry.stream, entry.expected,
                           coalesce(entry.current::text, 'no-stream')),
          DETAIL = json_build_object('stream', entry.stream, 'expected', entry.expected,
                                     'actual', coalesce(entry.current::text, 'no-stream'))::text;
      END IF;
      first_revisions[entry.k] := coalesce(entry.current, -1) + 1;
      appending := true;
    END LOOP;

    IF appending THEN
      tx := pg_current_xact_id()::text::bigint;
      INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
      SELECT tx * 1048576 + i.n - 1, pg_current_xact_id(), i.id, p_streams[i.k], p_categories[i.k],
             first_revisions[i.k] + (i.n - 1 - firsts[i.k]), i.type, i.data::jsonb, i.metadata::jsonb
      FROM unnest(p_ids, p_types, p_data, p_metadata, owners) WITH ORDINALITY AS i(id, type, data, metadata, k, n)
      WHERE NOT replayed[i.k];
      INSERT INTO sy_es.streams (stream_name, revision)
      SELECT p_streams[k], first_revisions[k] + p_counts[k] - 1
      FROM generate_subscripts(p_streams, 1) AS k
      WHERE NOT replayed[k]
      ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision;
      PERFORM pg_notify('sy_es_appended', '');
    END IF;

    RETURN QUERY
      SELECT CASE WHEN replayed[k] THEN stored_revisions[k] ELSE first_revisions[k] + p_counts[k] - 1 END,
             CASE WHEN replayed[k] THEN stored_positions[k]
                  ELSE tx * 1048576 + firsts[k] + p_counts[k] - 1 END,
             replayed[k]
      FROM generate_subscripts(p_streams, 1) AS k
      ORDER BY k;
  END
  $$`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single statement at a time.
  for (const statement of statements) await sql.raw(statement).execute(db);
}
