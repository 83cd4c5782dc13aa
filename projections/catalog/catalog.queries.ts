import type { Kysely } from 'kysely';
import { type ToolDefinition, toolDefinition, toolDefinitionHash } from '../../domains/catalog/index.ts';
import { applyToolOverrides } from '../../domains/servers/index.ts';
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
  /** The server pins its tools (settings.pinTools). */
  pinTools: boolean;
  /**
   * Tools the server lists but that are withheld (pinned, and their definition is not the approved
   * one): not in `tools`. See listPendingTools for what changed.
   */
  withheldTools: string[];
  /** What clients may see: withheld and hidden tools are left out, overrides applied (settings.tools). */
  tools: McpObject[];
  /** Served name → the upstream's own name, for the tools served renamed. */
  toolOrigins: Record<string, string>;
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
 * queries whatever the number of servers (six with a pinning server among them): the state rows,
 * then each item table for all of them. A pinning server's tools whose definition is not the
 * approved one are left out (withheld): every MCP endpoint, REST call and OpenAPI path reads this.
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
      's.settings',
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

  const pinning = rows.filter((r) => r.settings?.pinTools === true).map((r) => r.server_id);
  const [tools, resources, templates, prompts, pins] = await Promise.all([
    items(db, 'server_tools', ids),
    items(db, 'server_resources', ids),
    items(db, 'server_resource_templates', ids),
    items(db, 'server_prompts', ids),
    approvedHashes(db, pinning),
  ]);
  return rows.map((r) => {
    const listed = tools.get(r.server_id) ?? [];
    const approved = pins.get(r.server_id);
    const shown = approved
      ? listed.filter((t) => approved.get(String(t.name)) === toolDefinitionHash(t))
      : listed;
    const served = applyToolOverrides(shown as Array<McpObject & { name: string }>, r.settings?.tools);
    return view(r, {
      pinTools: approved !== undefined,
      withheldTools: approved ? listed.filter((t) => !shown.includes(t)).map((t) => String(t.name)) : [],
      tools: served.tools,
      toolOrigins: served.origins,
      resources: resources.get(r.server_id) ?? [],
      resourceTemplates: templates.get(r.server_id) ?? [],
      prompts: prompts.get(r.server_id) ?? [],
    });
  });
}

type StateRow = {
  server_id: string;
  name: string;
  enabled: boolean;
  tenant: string;
  owner: string;
  hash: string | null;
  server_revision: string | null;
  discovered_at: Date | string | null;
  server_info: CatalogView['serverInfo'];
  protocol_version: string | null;
  instructions: string | null;
  capabilities: Record<string, unknown>;
  last_error: string | null;
  failed_at: Date | string | null;
  failed_attempt: number | null;
  will_retry: boolean | null;
};

function view(
  r: StateRow,
  rest: Pick<
    CatalogView,
    'pinTools' | 'withheldTools' | 'tools' | 'toolOrigins' | 'resources' | 'resourceTemplates' | 'prompts'
  >,
): CatalogView {
  return {
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
    ...rest,
  };
}

/** Approved definition hashes by tool, per pinning server (every server asked for has a map). */
async function approvedHashes(db: Db, serverIds: string[]): Promise<Map<string, Map<string, string>>> {
  const out = new Map(serverIds.map((id) => [id, new Map<string, string>()]));
  if (serverIds.length === 0) return out;
  const rows = await db
    .selectFrom('server_tool_pins')
    .select(['server_id', 'tool', 'approved_hash'])
    .where('server_id', 'in', serverIds)
    .where('approved_hash', 'is not', null)
    .execute();
  for (const r of rows) out.get(r.server_id)?.set(r.tool, r.approved_hash!);
  return out;
}

/** One tool definition change waiting for an operator. */
export interface PendingTool {
  tool: string;
  /** The approved definition and its hash; null for a tool never approved (new since trust was established). */
  previous: {
    hash: string;
    definition: ToolDefinition | null;
    approvedAt: string | null;
    approvedBy: string | null;
  } | null;
  /** The definition the server lists now, withheld; approve it with exactly this hash. */
  proposed: { hash: string; definition: ToolDefinition };
  /** When a discovery reported this definition; null if not reported (yet). */
  detectedAt: string | null;
}

/**
 * The tools of a pinning server withheld from clients (their definition is not the approved one),
 * in the server's order, with the approved and the proposed definition. Empty for a server that does
 * not pin its tools; undefined for a server unknown, removed or of another tenant than the one asked.
 */
export async function listPendingTools(
  db: Db,
  serverId: string,
  options: TenantScope = {},
): Promise<{ serverId: string; pinTools: boolean; items: PendingTool[] } | undefined> {
  if (!isUuid(serverId)) return undefined;
  const id = serverId.toLowerCase();
  let q = db
    .selectFrom('servers')
    .select(['id', 'settings'])
    .where('id', '=', id)
    .where('status', '=', 'active');
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  const server = await q.executeTakeFirst();
  if (!server) return undefined;
  const pinTools = server.settings?.pinTools === true;
  if (!pinTools) return { serverId: id, pinTools, items: [] };
  const [tools, pins] = await Promise.all([
    db
      .selectFrom('server_tools')
      .select(['name', 'definition'])
      .where('server_id', '=', id)
      .orderBy('ordinal')
      .execute(),
    db.selectFrom('server_tool_pins').selectAll().where('server_id', '=', id).execute(),
  ]);
  const pinOf = new Map(pins.map((p) => [p.tool, p]));
  const items: PendingTool[] = [];
  for (const t of tools) {
    const hash = toolDefinitionHash(t.definition);
    const pin = pinOf.get(t.name);
    if (pin?.approved_hash === hash) continue;
    items.push({
      tool: t.name,
      previous:
        pin?.approved_hash != null
          ? {
              hash: pin.approved_hash,
              definition: (pin.approved_definition as ToolDefinition | null) ?? null,
              approvedAt: iso(pin.approved_at),
              approvedBy: pin.approved_by,
            }
          : null,
      proposed: { hash, definition: toolDefinition(t.definition) },
      detectedAt: pin?.reported_hash === hash ? iso(pin.reported_at) : null,
    });
  }
  return { serverId: id, pinTools, items };
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
