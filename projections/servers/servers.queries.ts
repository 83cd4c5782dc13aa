import { type Kysely, type Selectable, sql } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { ReadModelTables, RedactedTransport, ServerSettingsView, ServersTable } from '../db.ts';
import { healthOfServers, type ServerHealthView, UNCHECKED } from '../health/health.queries.ts';
import type { TenantScope } from '../tenant-scope.ts';
import { type ServerStats, serverStats } from '../tool-stats/tool-stats.queries.ts';

/** A server as the API shows it: camelCase, int8 as decimal strings, times as ISO strings. */
export interface ServerView {
  id: string;
  name: string;
  description: string | null;
  transportType: RedactedTransport['type'];
  /** Secrets redacted: env and header names kept, values '[redacted]' (references shown as such). */
  transport: RedactedTransport;
  tags: string[];
  enabled: boolean;
  status: 'active' | 'removed';
  settings: ServerSettingsView;
  /** Revision of the server's stream this view reflects (for If-Match style checks). */
  revision: string;
  /** Global position of the last event reflected (for read-your-writes). */
  position: string;
  createdAt: string;
  updatedAt: string;
  removedAt: string | null;
  /** The tenant the server belongs to, and the principal that registered it. */
  tenant: string;
  owner: string;
  /** Status and since when (audited transitions), last check time, latency and error. */
  health: ServerHealthView;
}

/** One server in full: the list's view plus its tool-call statistics. */
export interface ServerDetailView extends ServerView {
  /** Of the calls of the tenant asked for, when one was (see TenantScope). */
  stats: ServerStats;
}

export interface ListServersOptions extends TenantScope {
  /** Removed servers are hidden unless this is true. */
  includeRemoved?: boolean | undefined;
  enabled?: boolean | undefined;
  /** Only servers carrying this tag. */
  tag?: string | undefined;
  /** Page size, 1-500 (default 100). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface ServerPage {
  items: ServerView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

type Db = Kysely<ReadModelTables>;

function servers(db: Db) {
  return db.selectFrom('servers').selectAll();
}

/** Servers ordered by name (then id), a page at a time with an opaque keyset cursor. */
export async function listServers(db: Db, options: ListServersOptions = {}): Promise<ServerPage> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError('validation', 'QUERY.INVALID_LIMIT', 'limit must be an integer from 1 to 500');
  }
  let q = servers(db);
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (!options.includeRemoved) q = q.where('status', '=', 'active');
  if (options.enabled !== undefined) q = q.where('enabled', '=', options.enabled);
  // Containment, which the GIN index servers_tags serves (`= ANY(tags)` can never use it).
  if (options.tag !== undefined) q = q.where(sql<boolean>`tags @> ARRAY[${options.tag}]::text[]`);
  if (options.cursor !== undefined) {
    const [name, id] = decodeCursor(options.cursor, { dateKey: false });
    q = q.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
  }
  const rows = await q
    .orderBy('name')
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const health = await healthOfServers(
    db,
    page.map((r) => r.id),
  );
  return {
    items: page.map((r) => toView(r, health.get(r.id))),
    nextCursor: rows.length > limit && last ? encodeCursor(last.name, last.id) : null,
  };
}

/** Every server the options select, page by page (for background work such as health checks). */
export async function listAllServers(
  db: Db,
  options: Omit<ListServersOptions, 'limit' | 'cursor'> & { pageSize?: number } = {},
): Promise<ServerView[]> {
  const { pageSize = 500, ...filters } = options;
  const all: ServerView[] = [];
  let cursor: string | undefined;
  do {
    const page = await listServers(db, { ...filters, limit: pageSize, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return all;
}

/** One server by id, with its health and stats; a removed one only with `includeRemoved`. */
export async function getServer(
  db: Db,
  id: string,
  options: TenantScope & { includeRemoved?: boolean | undefined } = {},
): Promise<ServerDetailView | undefined> {
  if (!isUuid(id)) return undefined;
  let q = servers(db).where('id', '=', id.toLowerCase());
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (!options.includeRemoved) q = q.where('status', '=', 'active');
  const row = await q.executeTakeFirst();
  return row && detailView(db, row, options);
}

/** The active server holding `name` (names are unique among active servers), with health and stats. */
export async function getServerByName(
  db: Db,
  name: string,
  options: TenantScope = {},
): Promise<ServerDetailView | undefined> {
  let q = servers(db).where('name', '=', name).where('status', '=', 'active');
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  // Names are reserved on the write side; should two rows ever share one, answer the same one.
  const row = await q.orderBy('created_at').orderBy('id').executeTakeFirst();
  return row && detailView(db, row, options);
}

/** The id of the active server holding `name`, without composing its view (for filters). */
export async function findServerIdByName(
  db: Db,
  name: string,
  options: TenantScope = {},
): Promise<string | undefined> {
  let q = db.selectFrom('servers').select('id').where('name', '=', name).where('status', '=', 'active');
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  const row = await q.orderBy('created_at').orderBy('id').executeTakeFirst();
  return row?.id;
}

/** Composes the server row with the health and tool_calls read models (each its own query module). */
async function detailView(
  db: Db,
  row: Selectable<ServersTable>,
  scope: TenantScope,
): Promise<ServerDetailView> {
  const [health, stats] = await Promise.all([
    healthOfServers(db, [row.id]),
    serverStats(db, row.id, { tenant: scope.tenant }),
  ]);
  return { ...toView(row, health.get(row.id)), stats };
}

/** Maps a `servers` row (and its health, if it was ever checked) to its API shape. */
export function toView(row: Selectable<ServersTable>, health: ServerHealthView = UNCHECKED): ServerView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    transportType: row.transport_type,
    transport: row.transport,
    tags: row.tags,
    enabled: row.enabled,
    status: row.status,
    settings: row.settings,
    revision: String(row.revision),
    position: String(row.position),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    removedAt: row.removed_at === null ? null : new Date(row.removed_at).toISOString(),
    tenant: row.tenant,
    owner: row.owner,
    health,
  };
}
