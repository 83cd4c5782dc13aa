import { sql, type Transaction } from 'kysely';
import type { ToolCallEvent } from '../../domains/toolcalls/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ReadModelTables } from '../db.ts';
import { outcomeColumns, startedRow } from './tool-calls.rows.ts';

type Row = Record<string, unknown> & { id: string; revision: bigint };

/** What a batch's outcomes of calls started before it set, per call: only the outcome's columns. */
interface Move {
  id: string;
  columns: Record<string, unknown>;
  revision: bigint;
}

/**
 * The tool_calls projection for many events at once, with exactly `apply`'s rules (a start inserts
 * only a missing row; an outcome moves an existing row only forwards in revision), and without
 * reading the table:
 * - calls started in the batch are folded in memory (start, then any outcome) and written in one
 *   upsert that replaces a row only when it is older than the folded one (a call replayed);
 * - outcomes of calls started before the batch (the common case live: a start is committed before
 *   the upstream sees the call, its outcome after) update only their own columns, in one UPDATE per
 *   kind of outcome, from a JSON array of rows typed as the table's own row type
 *   (json_populate_recordset), each guarded by the row's revision.
 * At most four statements per batch however many calls it holds, none of them a read, so
 * read-model work per call shrinks as load grows; a rebuild replays the log through it too.
 */
export async function applyToolCallsBatch(
  trx: Transaction<ReadModelTables>,
  table: 'tool_calls',
  events: readonly RecordedEvent[],
): Promise<void> {
  const started = new Map<string, Row>();
  const moved = new Map<string, Move>();
  for (const event of events) {
    const e = { type: event.type, data: event.data } as ToolCallEvent;
    const id = e.data.callId;
    if (e.type === 'ToolCallStarted') {
      if (!started.has(id) && !moved.has(id)) {
        started.set(id, { ...startedRow(e, event), id, revision: event.revision } as Row);
      }
      continue;
    }
    const columns = { ...outcomeColumns(e), position: event.position };
    const row = started.get(id);
    if (row) {
      if (row.revision < event.revision) Object.assign(row, columns, { revision: event.revision });
      continue;
    }
    const earlier = moved.get(id);
    if (!earlier || earlier.revision < event.revision) {
      // A later outcome of the same call (abandoned, then finished) replaces the earlier one's columns.
      moved.set(id, { id, columns: { ...earlier?.columns, ...columns }, revision: event.revision });
    }
  }
  await insertStarted(trx, table, [...started.values()]);
  await moveOutcomes(trx, table, [...moved.values()]);
}

async function insertStarted(trx: Transaction<ReadModelTables>, table: 'tool_calls', rows: Row[]) {
  if (rows.length === 0) return;
  const values = rows.map((r) => ({ ...r, revision: r.revision.toString(), position: String(r.position) }));
  const columns = Object.keys(values[0]!).filter((c) => c !== 'id');
  await trx
    .insertInto(table)
    .values(values as never)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)])) as never)
        .where(sql.ref(`${table}.revision`), '<', sql.ref('excluded.revision')),
    )
    .execute();
}

async function moveOutcomes(trx: Transaction<ReadModelTables>, table: 'tool_calls', moves: Move[]) {
  // One statement per set of columns: an abandonment leaves the result columns as they are.
  const bySet = new Map<string, Move[]>();
  for (const m of moves) {
    const key = Object.keys(m.columns).sort().join(',');
    bySet.set(key, [...(bySet.get(key) ?? []), m]);
  }
  for (const [key, group] of bySet) {
    const columns = [...key.split(','), 'revision'];
    const json = JSON.stringify(
      group.map((m) => ({
        ...m.columns,
        // outcomeColumns writes the jsonb column as text (what an INSERT takes); here it is JSON itself.
        ...(typeof m.columns.error === 'string' && { error: JSON.parse(m.columns.error) }),
        id: m.id,
        revision: m.revision.toString(),
        position: String(m.columns.position),
      })),
    );
    await sql`
      UPDATE ${sql.table(table)} AS t
         SET ${sql.join(columns.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`))}
        FROM json_populate_recordset(NULL::${sql.table(table)}, ${json}::json) AS v
       WHERE t.id = v.id AND t.revision < v.revision`.execute(trx);
  }
}
