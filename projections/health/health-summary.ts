import type { HealthStatusColumn } from '../db.ts';
import type { ServerView } from '../servers/servers.queries.ts';

/** A server's state in the summary: its health status, or why it has none. */
export type SummaryState = HealthStatusColumn | 'UNCHECKED' | 'DISABLED';

export interface HealthSummary {
  total: number;
  enabled: number;
  disabled: number;
  /** Enabled and passing their checks. */
  healthy: number;
  /** Enabled and failing their checks (UNHEALTHY or ERROR). */
  unhealthy: number;
  /** Every server counted once, by state. */
  byState: Record<SummaryState, number>;
  servers: Array<{
    id: string;
    name: string;
    enabled: boolean;
    state: SummaryState;
    since: string | null;
    lastCheckAt: string | null;
    latencyMs: number | null;
    lastError: string | null;
  }>;
}

/** The health of a set of (active) servers, counted: what an operator's first look needs. */
export function summarizeHealth(servers: readonly ServerView[]): HealthSummary {
  const byState: Record<SummaryState, number> = {
    HEALTHY: 0,
    UNHEALTHY: 0,
    STARTING: 0,
    STOPPED: 0,
    ERROR: 0,
    UNCHECKED: 0,
    DISABLED: 0,
  };
  const rows = servers.map((s) => {
    const state: SummaryState = !s.enabled ? 'DISABLED' : (s.health.status ?? 'UNCHECKED');
    byState[state]++;
    return {
      id: s.id,
      name: s.name,
      enabled: s.enabled,
      state,
      since: s.health.since,
      lastCheckAt: s.health.lastCheckAt,
      latencyMs: s.health.latencyMs,
      lastError: s.health.lastError,
    };
  });
  const enabled = servers.filter((s) => s.enabled).length;
  return {
    total: servers.length,
    enabled,
    disabled: servers.length - enabled,
    healthy: byState.HEALTHY,
    unhealthy: byState.UNHEALTHY + byState.ERROR,
    byState,
    servers: rows,
  };
}
