import type { Relay } from '../bus/relay/relay.ts';
import type { GatewayDeps } from '../gateway/deps.ts';
import { busMetrics } from '../gateway/metrics/bus.metrics.ts';
import { buildManagementApp } from '../gateway/metrics/management.app.ts';
import { projectionMetrics } from '../gateway/metrics/projections.metrics.ts';
import { relayMetrics } from '../gateway/metrics/relay.metrics.ts';
import { serverHealthMetrics } from '../gateway/metrics/servers.metrics.ts';
import { upstreamMetrics } from '../gateway/metrics/upstreams.metrics.ts';
import { systemClock } from '../kernel/clock.ts';
import type { ProjectionRunner } from '../projections/index.ts';
import type { Upstreams } from '../runners/upstream.port.ts';
import type { RoleContext } from './role-context.ts';

/**
 * Each role's own series on the process's registry (the gateway's request, session, tool-call,
 * denial and rate-limit series are made where those happen), and, for a process without the
 * gateway role, the management port that serves them.
 */
export async function startMetrics(
  ctx: RoleContext,
  parts: {
    runner: ProjectionRunner;
    relay: Relay | undefined;
    upstreams: Upstreams | undefined;
    readiness: GatewayDeps['readiness'];
  },
): Promise<void> {
  const { config, metrics } = ctx;
  const roles = new Set(config.roles);
  const logger = ctx.logger.child({ module: 'metrics' });
  if (roles.has('runner') && parts.upstreams) upstreamMetrics(parts.upstreams, metrics);
  if (roles.has('projector')) {
    projectionMetrics(() => parts.runner.status(), metrics, logger);
    busMetrics(ctx.bus, metrics, logger);
  }
  const relay = parts.relay;
  if (relay)
    relayMetrics({ status: () => relay.status(), store: ctx.store, clock: systemClock, logger }, metrics);
  // The health monitor runs with the workers; its verdicts are in the read models.
  if (roles.has('worker')) serverHealthMetrics(ctx.db, metrics, logger);

  if (roles.has('gateway') || config.managementPort === undefined) return;
  const app = await buildManagementApp({
    logger: ctx.logger,
    metrics,
    readiness: parts.readiness,
    version: config.version,
  });
  const url = await app.listen({ host: config.host, port: config.managementPort });
  ctx.onClose('management port', () => app.close());
  logger.info({ url, roles: [...roles] }, 'management port listening (/health, /ready, /metrics)');
}
