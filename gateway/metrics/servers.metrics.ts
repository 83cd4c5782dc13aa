import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../kernel/logger.ts';
import type { ReadModelTables } from '../../projections/db.ts';
import { enabledServersByHealth } from '../../projections/health/health-counts.ts';

/**
 * Enabled servers by health, from the health read model (the health monitor's audited checks):
 * one series per status, so `switchyard_servers{health="unhealthy"}` reads 0 when all is well.
 */
export function serverHealthMetrics(db: Kysely<ReadModelTables>, metrics: Registry, logger: Logger): void {
  new Gauge({
    name: 'switchyard_servers',
    help: 'Enabled upstream servers by their last health status (unchecked: never checked yet)',
    labelNames: ['health'] as const,
    registers: [metrics],
    async collect() {
      try {
        const counts = await enabledServersByHealth(db);
        for (const [status, n] of Object.entries(counts)) this.set({ health: status.toLowerCase() }, n);
      } catch (e) {
        this.reset();
        logger.warn({ err: e }, 'could not read the servers health for /metrics');
      }
    },
  });
}
