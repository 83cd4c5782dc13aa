import type { UpstreamPool } from '../runners/pool/pool.ts';
import { createRemoteRuntimeViews } from '../runners/remote/runtime-views.remote.ts';
import { serveInspection } from '../runners/remote/serve-inspection.ts';
import { localRuntimeViews } from '../runners/runtime-views.local.ts';
import type { RuntimeViews } from '../runners/runtime-views.port.ts';
import type { RoleContext } from './role-context.ts';

/** A runner on the bus answers for what it holds on `exec.inspect.<runnerId>` (its status's id). */
export async function serveRunnerInspection(
  ctx: RoleContext,
  pool: UpstreamPool,
  runnerId: string,
): Promise<void> {
  const served = await serveInspection({ bus: ctx.bus, pool, runnerId });
  ctx.onClose('runner inspection', () => served.close());
}

/**
 * The gateway's runtime views: with NATS, every runner of the deployment is asked over the bus
 * (this process's own runner too, which serves on the bus like the others); embedded, the pool here.
 */
export async function startRuntimeViews(
  ctx: RoleContext,
  pool: UpstreamPool | undefined,
): Promise<RuntimeViews | undefined> {
  if (ctx.config.natsUrl) {
    const views = await createRemoteRuntimeViews({ bus: ctx.bus, logger: ctx.logger });
    ctx.onClose('runtime views', () => views.close());
    return views;
  }
  return pool && localRuntimeViews(pool);
}
