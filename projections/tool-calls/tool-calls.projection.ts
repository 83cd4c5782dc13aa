import type { Transaction, Updateable } from 'kysely';
import type { ToolCallEvent } from '../../domains/toolcalls/index.ts';
import { TOOLCALL_CATEGORY, toolCallEventTypeNames } from '../../domains/toolcalls/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ReadModelTables, ToolCallsTable } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/**
 * The `tool_calls` read model: the log of tool calls, one row per call, moving from running to its
 * outcome. Arguments are stored as the events hold them (redacted before they were recorded).
 * Every write is guarded by the call stream's revision, so applying an event twice changes nothing.
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
    switch (e.type) {
      case 'ToolCallStarted': {
        const d = e.data;
        await t
          .insertInto(table)
          .values({
            id: d.callId,
            server_id: d.serverId,
            server_name: d.serverName,
            tool: d.tool,
            actor: d.actor,
            via: d.via,
            session_id: d.sessionId ?? null,
            status: 'running',
            is_error: false,
            arguments: JSON.stringify(d.arguments),
            started_at: d.startedAt,
            finished_at: null,
            duration_ms: null,
            result_bytes: null,
            result_hash: null,
            error: null,
            abandon_reason: null,
            revision: event.revision,
            position: event.position,
            tenant: d.tenant,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        return;
      }
      case 'ToolCallSucceeded': {
        const d = e.data;
        return update(t, table, event, d.callId, {
          status: 'succeeded',
          is_error: d.isError,
          finished_at: d.finishedAt,
          duration_ms: d.durationMs,
          result_bytes: String(d.resultBytes),
          result_hash: d.resultHash,
          error: null,
        });
      }
      case 'ToolCallFailed': {
        const d = e.data;
        return update(t, table, event, d.callId, {
          status: 'failed',
          is_error: false,
          finished_at: d.finishedAt,
          duration_ms: d.durationMs,
          result_bytes: d.resultBytes === undefined ? null : String(d.resultBytes),
          result_hash: d.resultHash ?? null,
          error: JSON.stringify(d.error),
        });
      }
      case 'ToolCallAbandoned': {
        const d = e.data;
        return update(t, table, event, d.callId, {
          status: 'abandoned',
          finished_at: d.abandonedAt,
          abandon_reason: d.reason,
        });
      }
      default: {
        const _: never = e;
        return;
      }
    }
  },
};

/** Only moves a row forwards: an event at or below the row's revision has already been applied. */
async function update(
  trx: Trx,
  table: 'tool_calls',
  event: RecordedEvent,
  callId: string,
  columns: Updateable<ToolCallsTable>,
): Promise<void> {
  await trx
    .updateTable(table)
    .set({ ...columns, revision: event.revision, position: event.position })
    .where('id', '=', callId)
    .where('revision', '<', event.revision.toString())
    .execute();
}
