import type { Transaction, Updateable } from 'kysely';
import type {
  ServerDisabled,
  ServerEnabled,
  ServerEvent,
  ServerRegistered,
  ServerRemoved,
  ServerUpdated,
} from '../../domains/servers/index.ts';
import { SERVER_CATEGORY, serverEventTypeNames } from '../../domains/servers/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ReadModelTables, ServersTable } from '../db.ts';
import type { Projection } from '../projection.ts';
import { redactTransport } from './redact-transport.ts';
import { applyServersBatch } from './server.batch.ts';

type Trx = Transaction<ReadModelTables>;
type Updates = Updateable<ServersTable>;

/**
 * The `servers` read model: one row per server, removed ones kept with status 'removed'. Secrets
 * never land here, not even sealed: env and header names are kept, values shown as '[redacted]'
 * (references as the reference). Every write is guarded by the stream revision, so applying an
 * event twice changes nothing.
 */
export const serversProjection: Projection = {
  name: 'servers',
  version: 1,
  filter: { categories: [SERVER_CATEGORY], types: serverEventTypeNames },
  tables: ['servers'],
  applyBatch: (trx, events, tableNames) =>
    applyServersBatch(trx as Trx, (tableNames.servers ?? 'servers') as 'servers', events),
  async apply(trx, event, tableNames) {
    const table = (tableNames.servers ?? 'servers') as 'servers';
    const e = { type: event.type, data: event.data } as ServerEvent;
    const t = trx as Trx;
    switch (e.type) {
      case 'ServerRegistered':
        return registered(t, table, event, e);
      case 'ServerUpdated':
        return update(t, table, event, e.data.serverId, updatedColumns(e), e.data.updatedAt);
      case 'ServerEnabled':
        return update(
          t,
          table,
          event,
          e.data.serverId,
          { enabled: true },
          (e as ServerEnabled).data.enabledAt,
        );
      case 'ServerDisabled':
        return update(
          t,
          table,
          event,
          e.data.serverId,
          { enabled: false },
          (e as ServerDisabled).data.disabledAt,
        );
      case 'ServerRefreshRequested':
        // Nothing to show, but the row still reflects the stream's latest revision (If-Match).
        return update(t, table, event, e.data.serverId, {}, undefined);
      case 'ServerRemoved': {
        const at = (e as ServerRemoved).data.removedAt;
        return update(t, table, event, e.data.serverId, { status: 'removed', removed_at: at }, at);
      }
      default: {
        const _: never = e;
        return;
      }
    }
  },
};

async function registered(
  trx: Trx,
  table: 'servers',
  event: RecordedEvent,
  e: ServerRegistered,
): Promise<void> {
  const d = e.data;
  const transport = redactTransport(d.transport);
  await trx
    .insertInto(table)
    .values({
      id: d.serverId,
      name: d.name,
      description: d.description ?? null,
      transport_type: transport.type,
      transport: JSON.stringify(transport),
      tags: d.tags,
      enabled: d.enabled,
      status: 'active',
      settings: JSON.stringify(d.settings),
      revision: event.revision,
      position: event.position,
      created_at: d.registeredAt,
      updated_at: d.registeredAt,
      removed_at: null,
      tenant: d.tenant,
      owner: d.owner,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

function updatedColumns(e: ServerUpdated): Updates {
  const d = e.data;
  const set: Updates = {};
  if (d.name !== undefined) set.name = d.name;
  if (d.description !== undefined) set.description = d.description;
  if (d.transport !== undefined) {
    const transport = redactTransport(d.transport);
    set.transport_type = transport.type;
    set.transport = JSON.stringify(transport);
  }
  if (d.tags !== undefined) set.tags = d.tags;
  if (d.settings !== undefined) set.settings = JSON.stringify(d.settings);
  return set;
}

/** Only moves a row forwards: an event at or below the row's revision has already been applied. */
async function update(
  trx: Trx,
  table: 'servers',
  event: RecordedEvent,
  serverId: string,
  columns: Updates,
  /** When the server itself changed; undefined for events that change nothing shown (updated_at stays). */
  at: string | undefined,
): Promise<void> {
  await trx
    .updateTable(table)
    .set({
      ...columns,
      revision: event.revision,
      position: event.position,
      ...(at !== undefined && { updated_at: at }),
    })
    .where('id', '=', serverId)
    .where('revision', '<', event.revision.toString())
    .execute();
}
