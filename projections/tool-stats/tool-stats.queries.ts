import { type Kysely, sql } from 'kysely';
import { isUuid } from '../../kernel/ids.ts';
import type { ReadModelTables } from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

/**
 * Per-server and per-tool statistics, computed on read from the `tool_calls` log rather than kept
 * in a projection table of their own. Why: percentiles do not add up — a p95 cannot be maintained
 * incrementally from running totals without a sketch (t-digest, HDR histogram) that only
 * approximates it — while `percentile_cont` over the log's rows is exact, needs no second copy of
 * the data to keep equal to a rebuild, and runs the same on PostgreSQL and PGlite. The cost is a
 * scan of one server's calls per request (index tool_calls_server_started); should that ever
 * matter, `since` bounds it to a window, and a rollup table would be the next step.
 *
 * Definitions: `calls` counts finished calls (succeeded, failed, abandoned); running ones are
 * counted apart. `errors` are failed and abandoned calls plus successes whose tool reported an
 * error (isError). Percentiles are over calls with a duration (succeeded and failed), continuous
 * (interpolated), in ms to three decimals, as is the mean (avgMs). `lastUsedAt` is the start of the latest call, running or not.
 */
export interface ToolStats {
  calls: number;
  errors: number;
  /** errors / calls; null with no finished call. */
  errorRate: number | null;
  running: number;
  /** Mean duration of the calls with one (as the percentiles), ms to three decimals. */
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  lastUsedAt: string | null;
}

export interface ServerStats extends ToolStats {
  /** One entry per tool ever called on the server, by name. */
  tools: Array<ToolStats & { tool: string }>;
}

export const NO_STATS: ServerStats = {
  calls: 0,
  errors: 0,
  errorRate: null,
  running: 0,
  avgMs: null,
  p50Ms: null,
  p95Ms: null,
  lastUsedAt: null,
  tools: [],
};

/** The columns of a StatsRow, over whatever rows a query groups (the definitions above, in SQL). */
const AGGREGATES = sql`
  count(*) FILTER (WHERE status <> 'running') AS calls,
  count(*) FILTER (WHERE status IN ('failed', 'abandoned') OR is_error) AS errors,
  count(*) FILTER (WHERE status = 'running') AS running,
  avg(duration_ms) AS avg,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
  max(started_at) AS last_used_at`;

interface StatsRow {
  tool: string | null;
  whole: boolean;
  calls: string | number;
  errors: string | number;
  running: string | number;
  avg: string | number | null;
  p50: string | number | null;
  p95: string | number | null;
  last_used_at: Date | string | null;
}

/**
 * Stats of one server, whole and per tool, in one query (GROUPING SETS). With a tenant, of that
 * tenant's calls only: another tenant's use of a server is not this one's to see.
 */
export async function serverStats(
  db: Kysely<ReadModelTables>,
  serverId: string,
  options: TenantScope & { since?: Date | undefined } = {},
): Promise<ServerStats> {
  if (!isUuid(serverId)) return NO_STATS;
  const since = options.since ? sql`AND started_at >= ${options.since}` : sql``;
  const tenant = options.tenant !== undefined ? sql`AND tenant = ${options.tenant}` : sql``;
  const { rows } = await sql<StatsRow>`
    SELECT tool,
           grouping(tool) = 1 AS whole,
           ${AGGREGATES}
      FROM tool_calls
     WHERE server_id = ${serverId.toLowerCase()} ${since} ${tenant}
     GROUP BY GROUPING SETS ((tool), ())
     ORDER BY whole DESC, tool`.execute(db);
  const [total, ...perTool] = rows;
  if (!total?.whole) return NO_STATS;
  return { ...toStats(total), tools: perTool.map((r) => ({ tool: r.tool ?? '', ...toStats(r) })) };
}

function toStats(r: StatsRow): ToolStats {
  const calls = Number(r.calls);
  const errors = Number(r.errors);
  return {
    calls,
    errors,
    errorRate: calls === 0 ? null : errors / calls,
    running: Number(r.running),
    avgMs: ms(r.avg),
    p50Ms: ms(r.p50),
    p95Ms: ms(r.p95),
    lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
  };
}

/** Interpolated percentiles of whole milliseconds, to the microsecond (88, not 87.99999999999999). */
function ms(v: string | number | null): number | null {
  return v === null ? null : Math.round(Number(v) * 1000) / 1000;
}

/** Stats of every server, and of every tool of every server, over the calls started since a moment. */
export interface WindowStats {
  since: string;
  servers: Array<ToolStats & { serverId: string; serverName: string }>;
  /** Slowest first (p95), at most `tools` of them. */
  tools: Array<ToolStats & { serverId: string; serverName: string; tool: string }>;
}

/**
 * The calls of a time window, per server and per tool, in one query: what an overview shows
 * (calls, errors, p95 of each server; the slowest tools). Bounded by the window, through the
 * `tool_calls_started` index — not by the size of the log.
 */
export async function windowStats(
  db: Kysely<ReadModelTables>,
  options: TenantScope & { since: Date; tools: number },
): Promise<WindowStats> {
  const tenant = options.tenant !== undefined ? sql`AND tenant = ${options.tenant}` : sql``;
  const { rows } = await sql<StatsRow & { server_id: string; server_name: string }>`
    SELECT server_id, max(server_name) AS server_name, tool,
           grouping(tool) = 1 AS whole,
           ${AGGREGATES}
      FROM tool_calls
     WHERE started_at >= ${options.since} ${tenant}
     GROUP BY GROUPING SETS ((server_id, tool), (server_id))`.execute(db);
  const named = (r: (typeof rows)[number]) => ({ serverId: r.server_id, serverName: r.server_name });
  const servers = rows
    .filter((r) => r.whole)
    .map((r) => ({ ...named(r), ...toStats(r) }))
    .sort((a, b) => b.calls - a.calls);
  const tools = rows
    .filter((r) => !r.whole)
    .map((r) => ({ ...named(r), tool: r.tool ?? '', ...toStats(r) }))
    .sort((a, b) => (b.p95Ms ?? -1) - (a.p95Ms ?? -1))
    .slice(0, options.tools);
  return { since: options.since.toISOString(), servers, tools };
}

/** One bucket of a server's calls over time. */
export interface StatsPoint {
  /** Start of the bucket. */
  at: string;
  calls: number;
  errors: number;
  p95Ms: number | null;
}

/**
 * A server's calls per hour (or minute) since a moment: what a chart of its traffic, errors and
 * latency over time is drawn from. Empty buckets are left out (the reader knows the bucket width).
 */
export async function serverSeries(
  db: Kysely<ReadModelTables>,
  serverId: string,
  options: TenantScope & { since: Date; bucket: 'hour' | 'minute' },
): Promise<StatsPoint[]> {
  if (!isUuid(serverId)) return [];
  const tenant = options.tenant !== undefined ? sql`AND tenant = ${options.tenant}` : sql``;
  const { rows } = await sql<{
    at: Date | string;
    calls: string | number;
    errors: string | number;
    p95: string | number | null;
  }>`
    SELECT date_trunc(${options.bucket}, started_at) AS at,
           count(*) FILTER (WHERE status <> 'running') AS calls,
           count(*) FILTER (WHERE status IN ('failed', 'abandoned') OR is_error) AS errors,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
      FROM tool_calls
     WHERE server_id = ${serverId.toLowerCase()} AND started_at >= ${options.since} ${tenant}
     GROUP BY 1
     ORDER BY 1`.execute(db);
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    calls: Number(r.calls),
    errors: Number(r.errors),
    p95Ms: ms(r.p95),
  }));
}
