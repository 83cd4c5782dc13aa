import { sql, type Transaction } from 'kysely';
import type { ToolCallEvent } from '../../domains/toolcalls/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ReadModelTables } from '../db.ts';
import { outcomeColumns, startedRow } from './tool-calls.rows.ts';

type Row = Record<string, unknown> & { id: string; revision: bigint };

/**
 * The tool_calls projection for many events at once: the rows the batch touches are read in one
 * query, the events folded into them in memory with exactly `apply`'s rules (a start inserts only
 * a missing row; an outcome moves an existing row only forwards in revision), and the changed rows
 * written back in one upsert. Two statements per batch however many calls it holds — a call
 * started and finished within one batch is written once — so read-model work per call shrinks as
 * load grows; a rebuild replays the log through it too.
 */
export async function applyToolCallsBatch(
  trx: Transaction<ReadModelTables>,
  table: 'tool_calls',
  events: readonly RecordedEvent[],
): Promise<void> {
  const ids = [...new Set(events.map((e) => (e.data as { callId: string }).callId))];
  const rows = new Map<string, Row>();
  for (const r of await trx.selectFrom(table).selectAll().where('id', 'in', ids).execute()) {
    rows.set(r.id, { ...r, revision: BigInt(r.revision) });
  }
  const dirty = new Set<string>();
  for (const event of events) {
    const e = { type: event.type, data: event.data } as ToolCallEvent;
    const id = e.data.callId;
    const row = rows.get(id);
    if (e.type === 'ToolCallStarted') {
      if (row) continue;
      rows.set(id, { ...startedRow(e, event), id, revision: event.revision } as Row);
      dirty.add(id);
      continue;
    }
    if (!row || row.revision >= event.revision) continue;
    Object.assign(row, outcomeColumns(e), { revision: event.revision, position: event.position });
    dirty.add(id);
  }
  if (dirty.size === 0) return;
  const values = [...dirty].map((id) => {
    const r = rows.get(id)!;
    return {
      ...r,
      // Read back, JSON columns are objects and dates are Dates: written as the database takes them.
      arguments: typeof r.arguments === 'string' ? r.arguments : JSON.stringify(r.arguments),
      error: r.error === null || typeof r.error === 'string' ? r.error : JSON.stringify(r.error),
      revision: r.revision.toString(),
      position: String(r.position),
    };
  });
  const columns = Object.keys(values[0]!).filter((c) => c !== 'id');
  await trx
    .insertInto(table)
    .values(values as never)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)])) as never),
    )
    .execute();
}
