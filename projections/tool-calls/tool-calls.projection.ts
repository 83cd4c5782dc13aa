import type { Transaction } from 'kysely';
import type { ToolCallEvent } from '../../domains/toolcalls/index.ts';
import { TOOLCALL_CATEGORY, toolCallEventTypeNames } from '../../domains/toolcalls/index.ts';
import type { ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';
import { applyToolCallsBatch } from './tool-calls.batch.ts';
import { outcomeColumns, startedRow } from './tool-calls.rows.ts';

type Trx = Transaction<ReadModelTables>;

/**
 * The `tool_calls` read model: the log of tool calls, one row per call, moving from running to its
 * outcome. Arguments are stored as the events hold them (redacted before they were recorded).
 * Every write is guarded by the call stream's revision, so applying an event twice changes nothing.
 * Batches (live under load, and rebuilds) go through applyToolCallsBatch: two statements each.
 */
export const toolCallsProjection: Projection = {
  name: 'tool_calls',
  version: 1,
  filter: { categories: [TOOLCALL_CATEGORY], types: toolCallEventTypeNames },
  tables: ['tool_calls'],
  async apply(trx, event, tableNames) {
    const table = (tableNames.tool_calls ?? 'tool_calls') as 'tool_calls';
    const t = trx as Trx;
    const e = { type: event.type, data: event.data } as ToolCallEvent;
    if (e.type === 'ToolCallStarted') {
      await t
        .insertInto(table)
        .values(startedRow(e, event))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return;
    }
    // Only moves a row forwards: an event at or below the row's revision has already been applied.
    await t
      .updateTable(table)
      .set({ ...outcomeColumns(e), revision: event.revision, position: event.position })
      .where('id', '=', e.data.callId)
      .where('revision', '<', event.revision.toString())
      .execute();
  },
  applyBatch: (trx, events, tableNames) =>
    applyToolCallsBatch(trx as Trx, (tableNames.tool_calls ?? 'tool_calls') as 'tool_calls', events),
};
