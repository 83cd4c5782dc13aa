import { sql, type Transaction } from 'kysely';
import type { ServerEvent } from '../../domains/servers/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { ReadModelTables } from '../db.ts';
import { redactTransport } from './redact-transport.ts';

/** A servers row as the batch holds it in memory (JSON columns as objects). */
interface Row {
  id: string;
  name: string;
  description: string | null;
  transport_type: string;
  transport: unknown;
  tags: string[];
  enabled: boolean;
  status: 'active' | 'removed';
  settings: unknown;
  revision: bigint;
  position: bigint;
  created_at: string;
  updated_at: string;
  removed_at: string | null;
  tenant: string;
  owner: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/**
 * The servers projection for many events at once: rows touched by the batch are read once, the
 * events folded into them in memory with exactly `apply`'s rules (a registration inserts only a
 * missing row; every other event moves a row only forwards in revision), and the changed rows
 * written back in one upsert. A rebuild replays the log through this instead of one statement per
 * event.
 */
export async function applyServersBatch(
  trx: Transaction<ReadModelTables>,
  table: 'servers',
  events: readonly RecordedEvent[],
): Promise<void> {
  const ids = [...new Set(events.map((e) => (e.data as { serverId: string }).serverId))];
  const rows = new Map<string, Row>();
  for (const r of await trx.selectFrom(table).selectAll().where('id', 'in', ids).execute()) {
    rows.set(r.id, {
      ...r,
      transport: r.transport,
      settings: r.settings,
      revision: BigInt(r.revision),
      position: BigInt(r.position),
      created_at: iso(r.created_at),
      updated_at: iso(r.updated_at),
      removed_at: r.removed_at === null ? null : iso(r.removed_at),
    } as Row);
  }
  const dirty = new Set<string>();
  for (const event of events) {
    const e = { type: event.type, data: event.data } as ServerEvent;
    const id = e.data.serverId;
    const row = rows.get(id);
    if (e.type === 'ServerRegistered') {
      if (row) continue;
      const d = e.data;
      const transport = redactTransport(d.transport);
      rows.set(id, {
        id,
        name: d.name,
        description: d.description ?? null,
        transport_type: transport.type,
        transport,
        tags: d.tags,
        enabled: d.enabled,
        status: 'active',
        settings: d.settings,
        revision: event.revision,
        position: event.position,
        created_at: d.registeredAt,
        updated_at: d.registeredAt,
        removed_at: null,
        tenant: d.tenant,
        owner: d.owner,
      });
      dirty.add(id);
      continue;
    }
    if (!row || row.revision >= event.revision) continue;
    row.revision = event.revision;
    row.position = event.position;
    dirty.add(id);
    switch (e.type) {
      case 'ServerUpdated': {
        const d = e.data;
        if (d.name !== undefined) row.name = d.name;
        if (d.description !== undefined) row.description = d.description;
        if (d.transport !== undefined) {
          const transport = redactTransport(d.transport);
          row.transport_type = transport.type;
          row.transport = transport;
        }
        if (d.tags !== undefined) row.tags = d.tags;
        if (d.settings !== undefined) row.settings = d.settings;
        row.updated_at = d.updatedAt;
        break;
      }
      case 'ServerEnabled':
        row.enabled = true;
        row.updated_at = e.data.enabledAt;
        break;
      case 'ServerDisabled':
        row.enabled = false;
        row.updated_at = e.data.disabledAt;
        break;
      case 'ServerRefreshRequested':
        break;
      case 'ServerRemoved':
        row.status = 'removed';
        row.removed_at = e.data.removedAt;
        row.updated_at = e.data.removedAt;
        break;
      default: {
        const _: never = e;
        break;
      }
    }
  }
  if (dirty.size === 0) return;
  const values = [...dirty].map((id) => {
    const r = rows.get(id)!;
    return {
      ...r,
      transport: JSON.stringify(r.transport),
      settings: JSON.stringify(r.settings),
      revision: r.revision.toString(),
      position: r.position.toString(),
    };
  });
  const columns = Object.keys(values[0]!).filter((c) => c !== 'id');
  await trx
    .insertInto(table)
    .values(values as never)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)])) as never),
    )
    .execute();
}
