import type { Insertable, Transaction } from 'kysely';
import type {
  CapabilitiesDiscovered,
  CatalogCleared,
  CatalogEvent,
  DiscoveryFailed,
  DiscoveryRecovered,
  ToolDefinitionApproved,
  ToolDefinitionChanged,
} from '../../domains/catalog/index.ts';
import {
  CATALOG_CATEGORY,
  catalogEventTypeNames,
  toolDefinition,
  toolDefinitionHash,
} from '../../domains/catalog/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { CatalogStateTable, ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

const ITEM_TABLES = [
  'server_tools',
  'server_resources',
  'server_resource_templates',
  'server_prompts',
] as const;

interface Tables {
  state: 'catalog_state';
  server_tools: 'server_tools';
  server_resources: 'server_resources';
  server_resource_templates: 'server_resource_templates';
  server_prompts: 'server_prompts';
  pins: 'server_tool_pins';
}

/** Rows per INSERT: a server with thousands of tools stays far below the bind-parameter limit. */
const CHUNK = 500;

/**
 * The `catalog` read model: the current catalog of every server (tools, resources, resource
 * templates, prompts — each item also kept whole as `definition`), and per server the state of
 * discovery (hash, when, last error). A new catalog replaces the old one as a whole. Per tool, the
 * approved definition and the last change reported (tool pinning; which tools are withheld is read
 * from these and the server's `pinTools` setting, see catalog.queries.ts). Writes are guarded by the
 * catalog stream's revision, so applying an event twice changes nothing.
 */
export const catalogProjection: Projection = {
  name: 'catalog',
  version: 1,
  filter: { categories: [CATALOG_CATEGORY], types: catalogEventTypeNames },
  tables: ['catalog_state', ...ITEM_TABLES, 'server_tool_pins'],
  async apply(trx, event, tableNames) {
    // Physical names (a rebuild writes to fresh copies), typed as the logical tables they copy.
    const name = <T extends string>(table: T) => (tableNames[table] ?? table) as T;
    const tables: Tables = {
      state: name('catalog_state'),
      server_tools: name('server_tools'),
      server_resources: name('server_resources'),
      server_resource_templates: name('server_resource_templates'),
      server_prompts: name('server_prompts'),
      pins: name('server_tool_pins'),
    };
    const t = trx as Trx;
    const e = { type: event.type, data: event.data } as CatalogEvent;
    const current = await t
      .selectFrom(tables.state)
      .select('revision')
      .where('server_id', '=', e.data.serverId)
      .executeTakeFirst();
    if (current && BigInt(current.revision) >= event.revision) return;
    switch (e.type) {
      case 'CapabilitiesDiscovered':
        return discovered(t, tables, event, e);
      case 'DiscoveryFailed':
        return failed(t, tables, event, e);
      case 'DiscoveryRecovered':
        return recovered(t, tables, event, e);
      case 'CatalogCleared':
        return cleared(t, tables, event, e);
      case 'ToolDefinitionChanged':
        return toolChanged(t, tables, event, e);
      case 'ToolDefinitionApproved':
        return toolApproved(t, tables, event, e);
      default: {
        const _: never = e;
        return;
      }
    }
  },
};

async function deleteItems(trx: Trx, tables: Tables, serverId: string): Promise<void> {
  for (const table of ITEM_TABLES) {
    await trx.deleteFrom(tables[table]).where('server_id', '=', serverId).execute();
  }
}

async function insertChunked<R>(rows: R[], insert: (chunk: R[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

const json = (v: unknown) => JSON.stringify(v);
const jsonOrNull = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

async function discovered(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: CapabilitiesDiscovered,
): Promise<void> {
  const { serverId, catalog: c } = e.data;
  await deleteItems(trx, tables, serverId);
  await insertChunked(
    c.tools.map((tool, ordinal) => ({
      server_id: serverId,
      name: tool.name,
      ordinal,
      title: tool.title ?? null,
      description: tool.description ?? null,
      input_schema: json(tool.inputSchema),
      output_schema: jsonOrNull(tool.outputSchema),
      annotations: jsonOrNull(tool.annotations),
      definition: json(tool),
    })),
    (rows) => trx.insertInto(tables.server_tools).values(rows).execute(),
  );
  await insertChunked(
    c.resources.map((r, ordinal) => ({
      server_id: serverId,
      uri: r.uri,
      ordinal,
      name: r.name,
      title: r.title ?? null,
      description: r.description ?? null,
      mime_type: r.mimeType ?? null,
      definition: json(r),
    })),
    (rows) => trx.insertInto(tables.server_resources).values(rows).execute(),
  );
  await insertChunked(
    c.resourceTemplates.map((r, ordinal) => ({
      server_id: serverId,
      uri_template: r.uriTemplate,
      ordinal,
      name: r.name,
      title: r.title ?? null,
      description: r.description ?? null,
      mime_type: r.mimeType ?? null,
      definition: json(r),
    })),
    (rows) => trx.insertInto(tables.server_resource_templates).values(rows).execute(),
  );
  await insertChunked(
    c.prompts.map((p, ordinal) => ({
      server_id: serverId,
      name: p.name,
      ordinal,
      title: p.title ?? null,
      description: p.description ?? null,
      arguments: json(p.arguments ?? []),
      definition: json(p),
    })),
    (rows) => trx.insertInto(tables.server_prompts).values(rows).execute(),
  );
  const columns = {
    hash: e.data.hash,
    server_revision: String(e.data.serverRevision),
    server_info: jsonOrNull(c.serverInfo),
    protocol_version: c.protocolVersion ?? null,
    instructions: c.instructions ?? null,
    capabilities: json(c.capabilities),
    discovered_at: e.data.discoveredAt,
    last_error: null,
    failed_at: null,
    failed_attempt: null,
    will_retry: null,
    cleared_at: null,
    revision: event.revision,
    position: event.position,
    updated_at: e.data.discoveredAt,
  };
  await upsertState(trx, tables, serverId, columns);
}

async function failed(trx: Trx, tables: Tables, event: RecordedEvent, e: DiscoveryFailed): Promise<void> {
  await upsertState(trx, tables, e.data.serverId, {
    last_error: e.data.reason,
    failed_at: e.data.failedAt,
    failed_attempt: e.data.attempt,
    will_retry: e.data.willRetry,
    // Only a failure for a newer server revision gets past a clearing: the server is back, failing.
    cleared_at: null,
    revision: event.revision,
    position: event.position,
    updated_at: e.data.failedAt,
  });
}

async function recovered(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: DiscoveryRecovered,
): Promise<void> {
  await upsertState(trx, tables, e.data.serverId, {
    hash: e.data.hash,
    server_revision: String(e.data.serverRevision),
    last_error: null,
    failed_at: null,
    failed_attempt: null,
    will_retry: null,
    revision: event.revision,
    position: event.position,
    updated_at: e.data.recoveredAt,
  });
}

async function cleared(trx: Trx, tables: Tables, event: RecordedEvent, e: CatalogCleared): Promise<void> {
  await deleteItems(trx, tables, e.data.serverId);
  // A final clearing (removal) forgets the approvals, as the decider does.
  if (e.data.serverRevision === undefined)
    await trx.deleteFrom(tables.pins).where('server_id', '=', e.data.serverId).execute();
  await upsertState(trx, tables, e.data.serverId, {
    hash: null,
    server_revision: e.data.serverRevision === undefined ? null : String(e.data.serverRevision),
    server_info: null,
    protocol_version: null,
    instructions: null,
    capabilities: '{}',
    discovered_at: null,
    last_error: null,
    failed_at: null,
    failed_attempt: null,
    will_retry: null,
    cleared_at: e.data.clearedAt,
    revision: event.revision,
    position: event.position,
    updated_at: e.data.clearedAt,
  });
}

async function toolChanged(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: ToolDefinitionChanged,
): Promise<void> {
  const columns = { reported_hash: e.data.newHash, reported_at: e.data.detectedAt };
  await trx
    .insertInto(tables.pins)
    .values({ server_id: e.data.serverId, tool: e.data.tool, ...columns })
    .onConflict((oc) => oc.columns(['server_id', 'tool']).doUpdateSet(columns))
    .execute();
  await moveRevision(trx, tables, event, e.data.serverId, e.data.detectedAt);
}

async function toolApproved(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: ToolDefinitionApproved,
): Promise<void> {
  // The decider approves only the current definition, so the catalog as projected so far has it
  // (also in a rebuild, which replays the same order); kept to show what a later change changes.
  const row = await trx
    .selectFrom(tables.server_tools)
    .select('definition')
    .where('server_id', '=', e.data.serverId)
    .where('name', '=', e.data.tool)
    .executeTakeFirst();
  const definition =
    row && toolDefinitionHash(row.definition) === e.data.hash ? toolDefinition(row.definition) : undefined;
  const columns = {
    approved_hash: e.data.hash,
    approved_definition: jsonOrNull(definition),
    approved_at: e.data.approvedAt,
    approved_by: event.metadata.actor,
    reported_hash: null,
    reported_at: null,
  };
  await trx
    .insertInto(tables.pins)
    .values({ server_id: e.data.serverId, tool: e.data.tool, ...columns })
    .onConflict((oc) => oc.columns(['server_id', 'tool']).doUpdateSet(columns))
    .execute();
  await moveRevision(trx, tables, event, e.data.serverId, e.data.approvedAt);
}

/** The state row follows the stream's revision (the guard against applying an event twice). */
async function moveRevision(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  serverId: string,
  at: string,
): Promise<void> {
  await upsertState(trx, tables, serverId, {
    revision: event.revision,
    position: event.position,
    updated_at: at,
  });
}

type StateColumns = Omit<Insertable<CatalogStateTable>, 'server_id'>;

/** Inserts the server's state row, or updates the given columns of it. */
async function upsertState(trx: Trx, tables: Tables, serverId: string, columns: StateColumns): Promise<void> {
  await trx
    .insertInto(tables.state)
    .values({ server_id: serverId, ...columns })
    .onConflict((oc) => oc.column('server_id').doUpdateSet(columns))
    .execute();
}
