import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// sy_es.append_serialized_one: sy_es.append_serialized (2026-12-06-001) for one stream — the
// append of every command and of a lone tool call. The general function numbers events across
// entries and loops over them with a lateral join; for a single entry that is three statements
// PGlite pays for on every append (~1.1 ms against ~0.7 ms for this one, measured with the
// functions side by side). Same arguments (one entry), checks, errors (SYE01, SYE02, DETAIL as
// JSON), positions, answer and NOTIFY as append_serialized. Created on PGlite only, like it.
const statements = [
  `CREATE FUNCTION sy_es.append_serialized_one(
    p_streams text[], p_categories text[], p_expected text[], p_counts int[],
    p_ids uuid[], p_types text[], p_data text[], p_metadata text[]
  ) RETURNS TABLE (next_revision bigint, last_position bigint, duplicate boolean,
                   recorded_at timestamptz, previous_position bigint)
  LANGUAGE plpgsql SET jit = off AS $$
  DECLARE
    v_stream text := p_streams[1];
    v_expected text := p_expected[1];
    v_current bigint;
    v_found bigint;
    v_elsewhere bigint;
    v_revision bigint;
    v_position bigint;
    v_head bigint;
    v_tx bigint;
  BEGIN
    IF coalesce(cardinality(p_streams), 0) <> 1 THEN
      RAISE EXCEPTION 'sy_es.append_serialized_one appends to exactly one stream';
    END IF;
    PERFORM set_config('sy_es.appending', 'on', true);
    SELECT s.revision INTO v_current FROM sy_es.streams s WHERE s.stream_name = v_stream;
    SELECT count(*), count(*) FILTER (WHERE ev.stream <> v_stream), max(ev.revision), max(ev.position)
      INTO v_found, v_elsewhere, v_revision, v_position
      FROM sy_es.events ev WHERE ev.id = ANY(p_ids);
    v_head := coalesce((SELECT max(position) FROM sy_es.events), 0);
    IF v_found > 0 THEN
      IF v_found = p_counts[1] AND v_elsewhere = 0 THEN
        RETURN QUERY SELECT v_revision, v_position, true, now(), v_head;
        RETURN;
      END IF;
      RAISE EXCEPTION USING ERRCODE = 'SYE02',
        MESSAGE = format('some of the events appended to %s are already stored, but not all of them in this stream', v_stream),
        DETAIL = (SELECT json_build_object('stream', v_stream, 'storedIds', json_agg(ev.id))::text
                  FROM sy_es.events ev WHERE ev.id = ANY(p_ids));
    END IF;
    IF NOT (CASE v_expected
              WHEN 'any' THEN true
              WHEN 'no-stream' THEN v_current IS NULL
              WHEN 'stream-exists' THEN v_current IS NOT NULL
              ELSE v_current IS NOT DISTINCT FROM v_expected::bigint
            END) THEN
      RAISE EXCEPTION USING ERRCODE = 'SYE01',
        MESSAGE = format('stream %s expected at revision %s but is at %s', v_stream, v_expected,
                         coalesce(v_current::text, 'no-stream')),
        DETAIL = json_build_object('stream', v_stream, 'expected', v_expected,
                                   'actual', coalesce(v_current::text, 'no-stream'))::text;
    END IF;
    v_tx := pg_current_xact_id()::text::bigint;
    INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
    SELECT v_tx * 1048576 + i.n - 1, pg_current_xact_id(), i.id, v_stream, p_categories[1],
           coalesce(v_current, -1) + i.n, i.type, i.data::jsonb, i.metadata::jsonb
    FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS i(id, type, data, metadata, n);
    INSERT INTO sy_es.streams (stream_name, revision) VALUES (v_stream, coalesce(v_current, -1) + p_counts[1])
    ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision;
    PERFORM pg_notify('sy_es_appended', (v_tx * 1048576 + p_counts[1] - 1)::text);
    RETURN QUERY SELECT coalesce(v_current, -1) + p_counts[1], v_tx * 1048576 + p_counts[1] - 1, false,
                        now(), v_head;
  END
  $$`,
];

// biome-ignore lint/suspicious/noExplicitAny: frozen migrations never see app types
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ pglite: boolean }>`SELECT version() LIKE '%PGlite%' AS pglite`.execute(db);
  if (!rows[0]?.pglite) return;
  for (const statement of statements) await sql.raw(statement).execute(db);
}
