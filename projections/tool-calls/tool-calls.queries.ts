import { type Kysely, type Selectable, sql } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { ReadModelTables, ToolCallStatus, ToolCallsTable } from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

type Db = Kysely<ReadModelTables>;

/** A tool call as the API shows it: camelCase, times as ISO strings, int8 as decimal strings. */
export interface ToolCallView {
  id: string;
  serverId: string;
  /** The server's name when the call was made. */
  serverName: string;
  tool: string;
  actor: string;
  via: 'mcp' | 'rest';
  sessionId: string | null;
  status: ToolCallStatus;
  /** The tool reported an error (an MCP result with isError: true); the call itself succeeded. */
  isError: boolean;
  /** Redacted before they were recorded. */
  arguments: Record<string, unknown>;
  startedAt: string;
  /** When it succeeded, failed or was abandoned. */
  finishedAt: string | null;
  durationMs: number | null;
  resultBytes: number | null;
  /** sha256 (hex) of the result's JSON. */
  resultHash: string | null;
  error: { kind: string; code: string; message: string } | null;
  abandonReason: string | null;
  /** The tenant the call belongs to (its owner is `actor`). */
  tenant: string;
  /** Revision of the call's stream and global position of the last event this view reflects. */
  revision: string;
  position: string;
}

export interface ListToolCallsOptions extends TenantScope {
  serverId?: string | undefined;
  /** The server's name as recorded on each call (finds calls of removed servers too). */
  serverName?: string | undefined;
  tool?: string | undefined;
  status?: ToolCallStatus | undefined;
  actor?: string | undefined;
  /** Calls started at or after this instant. */
  from?: Date | undefined;
  /** Calls started before this instant. */
  to?: Date | undefined;
  /** Page size, 1-500 (default 100). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface ToolCallPage {
  items: ToolCallView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/**
 * The tool-call log, newest first (by start time, then id), a page at a time with an opaque keyset
 * cursor: a page never repeats or skips a call, however many arrive while a client pages.
 */
export async function listToolCalls(db: Db, options: ListToolCallsOptions = {}): Promise<ToolCallPage> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError('validation', 'QUERY.INVALID_LIMIT', 'limit must be an integer from 1 to 500');
  }
  let q = db.selectFrom('tool_calls').selectAll();
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (options.serverId !== undefined) {
    if (!isUuid(options.serverId)) return { items: [], nextCursor: null };
    q = q.where('server_id', '=', options.serverId.toLowerCase());
  }
  if (options.serverName !== undefined) q = q.where('server_name', '=', options.serverName);
  if (options.tool !== undefined) q = q.where('tool', '=', options.tool);
  if (options.status !== undefined) q = q.where('status', '=', options.status);
  if (options.actor !== undefined) q = q.where('actor', '=', options.actor);
  if (options.from !== undefined) q = q.where('started_at', '>=', options.from);
  if (options.to !== undefined) q = q.where('started_at', '<', options.to);
  if (options.cursor !== undefined) {
    const [startedAt, id] = decodeCursor(options.cursor, { dateKey: true });
    // Row comparison: matches the (started_at DESC, id DESC) index exactly.
    q = q.where(sql<boolean>`(started_at, id) < (${startedAt}::timestamptz, ${id}::uuid)`);
  }
  const rows = await q
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toToolCallView),
    nextCursor:
      rows.length > limit && last ? encodeCursor(new Date(last.started_at).toISOString(), last.id) : null,
  };
}

/** One call by id. */
export async function getToolCall(
  db: Db,
  id: string,
  options: TenantScope = {},
): Promise<ToolCallView | undefined> {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom('tool_calls').selectAll().where('id', '=', id.toLowerCase());
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  const row = await q.executeTakeFirst();
  return row && toToolCallView(row);
}

export function toToolCallView(row: Selectable<ToolCallsTable>): ToolCallView {
  return {
    id: row.id,
    serverId: row.server_id,
    serverName: row.server_name,
    tool: row.tool,
    actor: row.actor,
    via: row.via,
    sessionId: row.session_id,
    status: row.status,
    isError: row.is_error,
    arguments: row.arguments,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    durationMs: row.duration_ms,
    resultBytes: row.result_bytes === null ? null : Number(row.result_bytes),
    resultHash: row.result_hash,
    error: row.error,
    abandonReason: row.abandon_reason,
    tenant: row.tenant,
    revision: String(row.revision),
    position: String(row.position),
  };
}

/**
 * Ids of calls the read model shows running that started before `before`, oldest first (the
 * abandon sweep's candidates; the command itself decides on the call's stream).
 */
export async function runningCallsStartedBefore(db: Db, before: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .selectFrom('tool_calls')
    .select('id')
    .where('status', '=', 'running')
    .where('started_at', '<', before)
    .orderBy('started_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
