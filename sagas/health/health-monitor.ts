import type { Clock } from '../../kernel/clock.ts';
import { errorMessage } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Upstreams } from '../../runners/upstream.port.ts';

/**
 * An error as a health check keeps it: one line, capped. The runner words upstream failures
 * without the upstream's answer body; the cap keeps a chatty error out of every probe anyway.
 */
function briefError(e: unknown): string {
  const line = errorMessage(e).replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'STARTING' | 'STOPPED' | 'ERROR';

/** Where checks go: every probe to the live status table, transitions as events (health domain). */
export interface HealthRecorder {
  record(check: {
    serverId: string;
    status: HealthStatus;
    latencyMs: number | undefined;
    error: string | undefined;
    checkedAt: Date;
  }): Promise<void>;
}

export interface MonitoredServer {
  serverId: string;
  name: string;
  healthIntervalMs: number | undefined;
}

export interface HealthMonitorDeps {
  upstreams: Pick<Upstreams, 'ping' | 'status'>;
  recorder: HealthRecorder;
  /** The enabled servers, from the read model. */
  enabledServers: () => Promise<MonitoredServer[]>;
  clock: Clock;
  logger: Logger;
  defaultIntervalMs?: number;
  pingTimeoutMs?: number;
  /** How soon a server that was not healthy is checked again (default 2 s, at most its interval). */
  unhealthyRecheckMs?: number;
  /** How often the monitor looks for due checks and server changes (default 1 s). */
  tickMs?: number;
}

/**
 * Periodic health checks: an MCP ping per enabled server at its interval (default 30 s). The
 * instance states of the runner refine the answer (all crashed-looping → ERROR, still starting →
 * STARTING). A server that stops being enabled is recorded STOPPED once.
 */
export function createHealthMonitor(deps: HealthMonitorDeps) {
  const defaultIntervalMs = deps.defaultIntervalMs ?? 30_000;
  const pingTimeoutMs = deps.pingTimeoutMs ?? 5_000;
  const retryMs = deps.unhealthyRecheckMs ?? 2_000;
  const log = deps.logger.child({ module: 'health' });
  const due = new Map<string, number>();
  const inFlight = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  async function check(server: MonitoredServer): Promise<HealthStatus> {
    const checkedAt = deps.clock.now();
    let status: HealthStatus;
    let latencyMs: number | undefined;
    let error: string | undefined;
    const instances = deps.upstreams.status(server.serverId)[0]?.instances ?? [];
    try {
      latencyMs = Math.round(await deps.upstreams.ping(server.serverId, { timeoutMs: pingTimeoutMs }));
      status = 'HEALTHY';
    } catch (e) {
      const code = (e as { code?: string }).code;
      // Not hosted (yet): just registered or enabled, its runner is still starting it — not an error.
      const notHosted = code === 'UPSTREAM.UNKNOWN_SERVER' || code === 'UPSTREAM.NOT_HOSTED';
      error = notHosted ? undefined : briefError(e);
      if (notHosted) status = 'STARTING';
      else if (instances.length > 0 && instances.every((i) => i.state === 'error')) status = 'ERROR';
      else if (instances.some((i) => i.state === 'starting')) status = 'STARTING';
      else status = 'UNHEALTHY';
    }
    await deps.recorder.record({ serverId: server.serverId, status, latencyMs, error, checkedAt });
    return status;
  }

  async function tick(): Promise<void> {
    const now = deps.clock.now().getTime();
    const servers = await deps.enabledServers();
    const enabled = new Set(servers.map((s) => s.serverId));
    for (const serverId of [...due.keys()]) {
      if (enabled.has(serverId)) continue;
      due.delete(serverId);
      await deps.recorder
        .record({
          serverId,
          status: 'STOPPED',
          latencyMs: undefined,
          error: undefined,
          checkedAt: deps.clock.now(),
        })
        .catch((e: unknown) => log.warn({ err: e, serverId }, 'could not record STOPPED'));
    }
    for (const server of servers) {
      const next = due.get(server.serverId) ?? now;
      if (next > now || inFlight.has(server.serverId)) continue;
      const interval = server.healthIntervalMs ?? defaultIntervalMs;
      due.set(server.serverId, now + interval);
      inFlight.add(server.serverId);
      void check(server)
        .then((status) => {
          // A server that is not healthy (yet) is looked at again soon, not a whole interval later.
          if (status !== 'HEALTHY' && due.has(server.serverId)) {
            due.set(server.serverId, deps.clock.now().getTime() + Math.min(interval, retryMs));
          }
        })
        .catch((e: unknown) => log.warn({ err: e, serverId: server.serverId }, 'health check not recorded'))
        .finally(() => inFlight.delete(server.serverId));
    }
  }

  return {
    start(): void {
      const loop = () => {
        ticking = tick()
          .catch((e: unknown) => log.warn({ err: e }, 'health tick failed'))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, deps.tickMs ?? 1_000).unref();
          });
      };
      timer = setTimeout(loop, 0).unref();
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await ticking;
    },
    /** Checks one server now (after a registration, or from tests). */
    checkNow: (server: MonitoredServer) => check(server),
  };
}
