import type { Kysely } from 'kysely';
import { isUuid } from '../../kernel/ids.ts';
import type { ReadModelTables } from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

type Db = Kysely<ReadModelTables>;
type McpObject = Record<string, unknown>;

/** One server's catalog as the gateway serves it: each item the MCP object the server listed. */
export interface CatalogView {
  serverId: string;
  serverName: string;
  enabled: boolean;
  /** The server's tenant and owner, for authorizing per server. */
  tenant: string;
  owner: string;
  /** sha256 of the catalog; null when none was discovered yet (only failures so far). */
  hash: string | null;
  /** Revision of the server's stream the catalog was discovered at (decimal string). */
  serverRevision: string | null;
  discoveredAt: string | null;
  serverInfo: { name: string; version: string; [k: string]: unknown } | null;
  protocolVersion: string | null;
  instructions: string | null;
  capabilities: Record<string, unknown>;
  /** The latest attempt's failure, null once a discovery succeeds again. */
  lastError: string | null;
  failedAt: string | null;
  failedAttempt: number | null;
  willRetry: boolean | null;
  tools: McpObject[];
  resources: McpObject[];
  resourceTemplates: McpObject[];
  prompts: McpObject[];
}

export interface ListCatalogOptions extends TenantScope {
  /** Only these servers (ids); unknown or malformed ids are simply not found. */
  serverIds?: readonly string[] | undefined;
  /** Only enabled (true) or disabled (false) servers. */
  enabled?: boolean | undefined;
}

/**
 * Catalogs of active servers that have had a discovery (succeeded or failed), by server name. Five
 * queries whatever the number of servers: the state rows, then each item table for all of them.
 */
export async function listCatalog(db: Db, options: ListCatalogOptions = {}): Promise<CatalogView[]> {
  let q = db
    .selectFrom('catalog_state as c')
    .innerJoin('servers as s', 's.id', 'c.server_id')
    .where('s.status', '=', 'active')
    .where('c.cleared_at', 'is', null)
    .select([
      'c.server_id',
      's.name',
      's.enabled',
      's.tenant',
      's.owner',
      'c.hash',
      'c.server_revision',
      'c.discovered_at',
      'c.server_info',
      'c.protocol_version',
      'c.instructions',
      'c.capabilities',
      'c.last_error',
      'c.failed_at',
      'c.failed_attempt',
      'c.will_retry',
    ]);
  if (options.serverIds !== undefined) {
    const ids = options.serverIds.filter((id) => isUuid(id)).map((id) => id.toLowerCase());
    if (ids.length === 0) return [];
    q = q.where('c.server_id', 'in', ids);
  }
  if (options.enabled !== undefined) q = q.where('s.enabled', '=', options.enabled);
  if (options.tenant !== undefined) q = q.where('s.tenant', '=', options.tenant);
  const rows = await q.orderBy('s.name').orderBy('s.id').execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.server_id);

  const [tools, resources, templates, prompts] = await Promise.all([
    items(db, 'server_tools', ids),
    items(db, 'server_resources', ids),
    items(db, 'server_resource_templates', ids),
    items(db, 'server_prompts', ids),
  ]);
  return rows.map((r) => ({
    serverId: r.server_id,
    serverName: r.name,
    enabled: r.enabled,
    tenant: r.tenant,
    owner: r.owner,
    hash: r.hash,
    serverRevision: r.server_revision === null ? null : String(r.server_revision),
    discoveredAt: iso(r.discovered_at),
    serverInfo: r.server_info,
    protocolVersion: r.protocol_version,
    instructions: r.instructions,
    capabilities: r.capabilities,
    lastError: r.last_error,
    failedAt: iso(r.failed_at),
    failedAttempt: r.failed_attempt,
    willRetry: r.will_retry,
    tools: tools.get(r.server_id) ?? [],
    resources: resources.get(r.server_id) ?? [],
    resourceTemplates: templates.get(r.server_id) ?? [],
    prompts: prompts.get(r.server_id) ?? [],
  }));
}

/**
 * One server's catalog; undefined if the server is unknown, removed, of another tenant than the
 * one asked for, or never had a discovery.
 */
export async function getServerCatalog(
  db: Db,
  serverId: string,
  options: TenantScope = {},
): Promise<CatalogView | undefined> {
  const [view] = await listCatalog(db, { serverIds: [serverId], tenant: options.tenant });
  return view;
}

/** The items of one table for `serverIds`, grouped by server, in each server's own order. */
async function items(
  db: Db,
  table: 'server_tools' | 'server_resources' | 'server_resource_templates' | 'server_prompts',
  serverIds: string[],
): Promise<Map<string, McpObject[]>> {
  const rows = await db
    .selectFrom(table)
    .select(['server_id', 'definition'])
    .where('server_id', 'in', serverIds)
    .orderBy('server_id')
    .orderBy('ordinal')
    .execute();
  const out = new Map<string, McpObject[]>();
  for (const r of rows) {
    const list = out.get(r.server_id) ?? [];
    list.push(r.definition);
    out.set(r.server_id, list);
  }
  return out;
}

function iso(d: Date | string | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}
