import type { Kysely } from 'kysely';
import type { HealthStatusColumn, ReadModelTables } from '../db.ts';

/** Enabled servers by their last health status; `UNCHECKED` for those never checked. */
export async function enabledServersByHealth(
  db: Kysely<ReadModelTables>,
): Promise<Record<HealthStatusColumn | 'UNCHECKED', number>> {
  const rows = await db
    .selectFrom('servers')
    .leftJoin('server_health', 'server_health.server_id', 'servers.id')
    .select(['server_health.status as status', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('servers.status', '=', 'active')
    .where('servers.enabled', '=', true)
    .groupBy('server_health.status')
    .execute();
  const out = { HEALTHY: 0, UNHEALTHY: 0, STARTING: 0, STOPPED: 0, ERROR: 0, UNCHECKED: 0 };
  for (const r of rows) out[r.status ?? 'UNCHECKED'] += Number(r.n);
  return out;
}
