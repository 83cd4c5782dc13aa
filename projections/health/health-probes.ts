import { type Kysely, sql } from 'kysely';
import type { HealthStatus } from '../../domains/health/index.ts';
import type { ReadModelTables } from '../db.ts';

export interface HealthProbe {
  serverId: string;
  status: HealthStatus;
  latencyMs?: number | null | undefined;
  checkedAt: Date | string;
  error?: string | null | undefined;
}

/**
 * Writes the outcome of one health check to `server_health_probes` (one row per server, the latest
 * check). Deliberately not event-sourced: a check every 30 s per server is telemetry, not history,
 * and as events it would swamp the log with "still healthy". The audited part is the transitions
 * (ServerHealthChanged, via makeHealthCommands().record); this table only answers "when was it last
 * checked, and how fast was it". It is not rebuilt from the log (there is nothing to rebuild it
 * from); losing it loses only the last check time until the next check. A report older than the
 * stored one is ignored, so two checkers racing cannot move it backwards.
 */
export async function recordHealthProbe(db: Kysely<ReadModelTables>, probe: HealthProbe): Promise<void> {
  const checkedAt = new Date(probe.checkedAt).toISOString();
  const columns = {
    status: probe.status,
    latency_ms:
      probe.latencyMs === undefined || probe.latencyMs === null ? null : Math.round(probe.latencyMs),
    error: probe.error ?? null,
    checked_at: checkedAt,
  };
  await db
    .insertInto('server_health_probes')
    .values({ server_id: probe.serverId.toLowerCase(), ...columns })
    .onConflict((oc) =>
      oc
        .column('server_id')
        .doUpdateSet(columns)
        .where(sql<boolean>`server_health_probes.checked_at <= ${checkedAt}::timestamptz`),
    )
    .execute();
}
