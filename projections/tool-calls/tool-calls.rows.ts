import type { Insertable, Updateable } from 'kysely';
import type { ToolCallEvent } from '../../domains/toolcalls/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ToolCallsTable } from '../db.ts';

/**
 * What each tool-call event writes, for `apply` (one event, one statement) and the batch (many
 * events folded in memory, one upsert): one rule, two ways of writing it.
 */

type Started = Extract<ToolCallEvent, { type: 'ToolCallStarted' }>;
type Outcome = Exclude<ToolCallEvent, Started>;

/** The row a ToolCallStarted creates (a start seen twice changes nothing). */
export function startedRow(e: Started, event: RecordedEvent): Insertable<ToolCallsTable> {
  const d = e.data;
  return {
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
  };
}

/** The columns an outcome sets on its call's row, if the row is below the event's revision. */
export function outcomeColumns(e: Outcome): Updateable<ToolCallsTable> {
  switch (e.type) {
    case 'ToolCallSucceeded': {
      const d = e.data;
      return {
        status: 'succeeded',
        is_error: d.isError,
        finished_at: d.finishedAt,
        duration_ms: d.durationMs,
        result_bytes: String(d.resultBytes),
        result_hash: d.resultHash,
        error: null,
      };
    }
    case 'ToolCallFailed': {
      const d = e.data;
      return {
        status: 'failed',
        is_error: false,
        finished_at: d.finishedAt,
        duration_ms: d.durationMs,
        result_bytes: d.resultBytes === undefined ? null : String(d.resultBytes),
        result_hash: d.resultHash ?? null,
        error: JSON.stringify(d.error),
      };
    }
    case 'ToolCallAbandoned': {
      const d = e.data;
      return { status: 'abandoned', finished_at: d.abandonedAt, abandon_reason: d.reason };
    }
    default: {
      const _: never = e;
      return _;
    }
  }
}
