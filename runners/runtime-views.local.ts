import { type Clock, systemClock } from '../kernel/clock.ts';
import type { UpstreamPool } from './pool/pool.ts';
import { instanceViews, type RuntimeViews } from './runtime-views.port.ts';

/** The runtime views of the one runner in this process (embedded mode). */
export function localRuntimeViews(
  pool: Pick<UpstreamPool, 'status' | 'stderr'>,
  options: { runnerId?: string; clock?: Clock } = {},
): RuntimeViews {
  const runner = options.runnerId ?? 'local';
  const clock = options.clock ?? systemClock;
  return {
    async instances(serverId) {
      const status = pool.status(serverId)[0];
      return {
        serverId,
        instances: status ? instanceViews(runner, status.instances, clock.now()) : [],
        runners: status ? [runner] : [],
        unreachable: [],
      };
    },
    async logs(serverId, options = {}) {
      const after = options.after?.[runner] ?? 0;
      const lines = pool
        .stderr(serverId, { afterSeq: after, limit: options.limit ?? 200 })
        .map((l) => ({ ...l, runner }));
      return { lines, cursor: { [runner]: lines.at(-1)?.seq ?? after }, unreachable: [] };
    },
  };
}
