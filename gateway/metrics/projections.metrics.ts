import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../kernel/logger.ts';
import type { ProjectionState, ProjectionStatus } from '../../projections/index.ts';
import { sharedRead } from './shared-read.ts';

const STATES: readonly ProjectionState[] = ['stopped', 'catching-up', 'live', 'rebuilding', 'failed'];

/**
 * The projections' progress, from the same status `GET /api/v1/projections` answers, read once per
 * scrape: each projection's checkpoint (a global log position), its lag in events and seconds, and
 * its state (1 for the state it is in). Labels are the projections' names, a fixed set.
 */
export function projectionMetrics(
  status: () => Promise<ProjectionStatus[]>,
  metrics: Registry,
  logger: Logger,
): void {
  const read = sharedRead(async () => {
    try {
      return await status();
    } catch (e) {
      logger.warn({ err: e }, 'could not read the projections status for /metrics');
      return [];
    }
  });
  const gauge = (name: string, help: string, value: (s: ProjectionStatus) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection'] as const,
      registers: [metrics],
      async collect() {
        const all = await read();
        this.reset();
        for (const s of all) this.set({ projection: s.name }, value(s));
      },
    });
  gauge(
    'switchyard_projection_checkpoint_position',
    'Global log position of the last event each projection applied',
    (s) => Number(s.checkpoint),
  );
  gauge(
    'switchyard_projection_lag_events',
    "Events in the log matching a projection's filter and not yet applied",
    (s) => s.lagEvents,
  );
  gauge(
    'switchyard_projection_lag_seconds',
    'Age of the oldest event a projection has not yet applied (0 when caught up)',
    (s) => s.lagMs / 1000,
  );
  new Gauge({
    name: 'switchyard_projection_state',
    help: 'State of each projection: 1 for the state it is in, 0 for the others',
    labelNames: ['projection', 'state'] as const,
    registers: [metrics],
    async collect() {
      const all = await read();
      this.reset();
      for (const s of all)
        for (const state of STATES) this.set({ projection: s.name, state }, s.state === state ? 1 : 0);
    },
  });
}
