import type { Transaction } from 'kysely';
import type { HealthEvent } from '../../domains/health/index.ts';
import { HEALTH_CATEGORY, healthEventTypeNames } from '../../domains/health/index.ts';
import type { ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/**
 * The `health` read model: each server's status and since when, from its ServerHealthChanged
 * transitions. Every check's time and latency are not here (they are not events): see
 * health-probes.ts. Writes are guarded by the health stream's revision.
 */
export const healthProjection: Projection = {
  name: 'health',
  version: 1,
  filter: { categories: [HEALTH_CATEGORY], types: healthEventTypeNames },
  tables: ['server_health'],
  async apply(trx, event, tableNames) {
    const table = (tableNames.server_health ?? 'server_health') as 'server_health';
    const e = { type: event.type, data: event.data } as HealthEvent;
    switch (e.type) {
      case 'ServerHealthChanged': {
        const d = e.data;
        const columns = {
          status: d.to,
          since: d.at,
          latency_ms: d.latencyMs,
          error: d.error,
          revision: event.revision,
          position: event.position,
        };
        await (trx as Trx)
          .insertInto(table)
          .values({ server_id: d.serverId, ...columns })
          .onConflict((oc) =>
            oc
              .column('server_id')
              .doUpdateSet(columns)
              .where(`${table}.revision` as 'server_health.revision', '<', event.revision.toString()),
          )
          .execute();
        return;
      }
      default: {
        const _: never = e.type;
        return;
      }
    }
  },
};
