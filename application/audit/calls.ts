import {
  evolve,
  initialState,
  type ToolCallEvent,
  type ToolCallStarted,
  toolCallStream,
} from '../../domains/toolcalls/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { inWindow, type LogQuery, type TimeWindow } from './log-scan.ts';

/** Which calls: all of them, or narrowed by who, which server (name or id), which tool, when. */
export interface CallsQuery extends TimeWindow {
  /** Only calls of this tenant; undefined: every tenant's (administrators). */
  tenant?: string | undefined;
  actor?: string | undefined;
  /** A server's name at the time of the call, or its id. */
  server?: string | undefined;
  /** The upstream tool's name, or the name the caller used for it. */
  tool?: string | undefined;
}

export type CallOutcome = 'succeeded' | 'failed' | 'abandoned' | 'running';

/** One tool call as the log tells it: who, what, with which (redacted) arguments, and how it ended. */
export interface CallRecord {
  /** Global position of the call's ToolCallStarted: the cursor. */
  position: string;
  /** When the log recorded the call's start. */
  recordedAt: string;
  callId: string;
  tenant: string;
  actor: string;
  /** The credential the caller presented (`api-key:<keyId>`…), never a secret. */
  credential: string | null;
  via: string;
  sessionId: string | null;
  serverId: string;
  serverName: string;
  tool: string;
  servedAs: string | null;
  /** As recorded: redacted before they reached the log (and sealed there, opened when answered). */
  arguments: Record<string, unknown>;
  /** 'succeeded' includes the tool's own error results (isError). */
  outcome: CallOutcome;
  isError: boolean | null;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number | null;
  resultBytes: number | null;
  /** sha256 of the result's JSON, to check a result kept elsewhere. */
  resultHash: string | null;
  finishedAt: string | null;
  correlationId: string;
}

/**
 * Opens sealed personal data (PersonalDataVault.open): the arguments of a call are sealed with its
 * caller's data key in the log, and read as `[erased]` once the caller was erased.
 */
export type OpenSealed = <T>(value: T) => Promise<T>;

/**
 * The question "every call by an actor, to a tool, in a time range": ToolCallStarted events, by the
 * type index. With `open`, sealed arguments are answered in clear (or as erased).
 */
export function callsQuery(store: EventStore, q: CallsQuery, open?: OpenSealed): LogQuery<CallRecord> {
  return {
    filter: { types: ['ToolCallStarted'] },
    matches(e) {
      const d = (e as RecordedEvent<ToolCallStarted['data']>).data;
      return (
        inWindow(e, q) &&
        (q.tenant === undefined || d.tenant === q.tenant) &&
        (q.actor === undefined || d.actor === q.actor) &&
        (q.server === undefined || d.serverName === q.server || d.serverId === q.server) &&
        (q.tool === undefined || d.tool === q.tool || d.servedAs === q.tool)
      );
    },
    async row(e) {
      const r = await callRecord(store, e as RecordedEvent<ToolCallStarted['data']>);
      return open ? { ...r, arguments: await open(r.arguments) } : r;
    },
  };
}

/**
 * The call's start and, from its own stream, its outcome — as the toolcalls decider folds it, so
 * a late result after an abandonment counts as the decider counts it. The outcome is the one known
 * now, whatever the time window (a call started in the window may end after it).
 */
async function callRecord(
  store: EventStore,
  started: RecordedEvent<ToolCallStarted['data']>,
): Promise<CallRecord> {
  const d = started.data;
  const events = (await store.readStream(toolCallStream(d.callId))) as RecordedEvent<ToolCallEvent['data']>[];
  const typed = events.map((e) => ({ type: e.type, data: e.data }) as ToolCallEvent);
  const state = typed.reduce(evolve, initialState);
  const outcome: CallOutcome =
    state.status === 'finished' ? state.outcome : state.status === 'abandoned' ? 'abandoned' : 'running';
  const end = typed.findLast((e) => e.type !== 'ToolCallStarted');
  const finished = end?.type === 'ToolCallSucceeded' || end?.type === 'ToolCallFailed' ? end : undefined;
  return {
    position: started.position.toString(),
    recordedAt: started.recordedAt.toISOString(),
    callId: d.callId,
    tenant: d.tenant,
    actor: d.actor,
    credential: started.metadata.credential ?? null,
    via: d.via,
    sessionId: d.sessionId ?? null,
    serverId: d.serverId,
    serverName: d.serverName,
    tool: d.tool,
    servedAs: d.servedAs ?? null,
    arguments: d.arguments,
    outcome,
    isError: finished?.type === 'ToolCallSucceeded' ? finished.data.isError : null,
    errorCode: finished?.type === 'ToolCallFailed' ? finished.data.error.code : null,
    errorMessage:
      finished?.type === 'ToolCallFailed'
        ? finished.data.error.message
        : end?.type === 'ToolCallAbandoned'
          ? end.data.reason
          : null,
    durationMs: finished ? finished.data.durationMs : null,
    resultBytes: finished?.data.resultBytes ?? null,
    resultHash: finished?.data.resultHash ?? null,
    finishedAt:
      finished?.data.finishedAt ?? (end?.type === 'ToolCallAbandoned' ? end.data.abandonedAt : null),
    correlationId: started.metadata.correlationId,
  };
}
