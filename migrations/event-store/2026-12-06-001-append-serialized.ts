import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// sy_es.append_serialized: sy_es.append_many (2026-12-05-002) for a database that runs one
// transaction at a time — PGlite, a single session behind a mutex (event-store/postgres/
// connection.ts). With no concurrent transaction there is nothing for the appender registration's
// shared lock or the streams' advisory locks to order, so they are left out: on PGlite each
// statement of a PL/pgSQL function costs tens of microseconds, and an append was ~1.1 ms.
//
// Same arguments, checks, errors (SYE01, SYE02) and positions as append_many. It also answers, on
// every row, what a reader of the log needs to know without reading it back: `recorded_at` (the
// events' timestamp) and `previous_position`, the head of the log before this append (0 when the
// log was empty) — with one transaction at a time, the events appended here are exactly the next
// ones after it. Its NOTIFY carries the append's last position, so a reader that already holds
// the events can tell the notification is about them.
//
// Created on PGlite only: on a PostgreSQL server, appends run concurrently and must go through
// append_many, so the function does not exist there to be called by mistake.
const statements = [
  `CREATE FUNCTION sy_es.append_serialized(
    p_streams text[], p_categories text[], p_expected text[], p_counts int[],
    p_ids uuid[], p_types text[], p_data text[], p_metadata text[]
  ) RETURNS TABLE (next_revision bigint, last_position bigint, duplicate boolean,
                   recorded_at timestamptz, previous_position bigint)
  LANGUAGE plpgsql SET jit = off AS $$
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
    head bigint;
    appending boolean := false;
  BEGIN
    IF n_entries = 0 THEN
      RETURN;
    END IF;
    PERFORM set_config('sy_es.appending', 'on', true);
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

    head := coalesce((SELECT max(position) FROM sy_es.events), 0);
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
      PERFORM pg_notify('sy_es_appended', (SELECT max(position) FROM sy_es.events)::text);
    END IF;

    RETURN QUERY
      SELECT CASE WHEN replayed[k] THEN stored_revisions[k] ELSE first_revisions[k] + p_counts[k] - 1 END,
             CASE WHEN replayed[k] THEN stored_positions[k]
                  ELSE tx * 1048576 + firsts[k] + p_counts[k] - 1 END,
             replayed[k], now(), head
      FROM generate_subscripts(p_streams, 1) AS k
      ORDER BY k;
  END
  $$`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ pglite: boolean }>`SELECT version() LIKE '%PGlite%' AS pglite`.execute(db);
  if (!rows[0]?.pglite) return;
  for (const statement of statements) await sql.raw(statement).execute(db);
}
