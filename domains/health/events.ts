import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';

/**
 * A server's health as the runners see it. STARTING: its process or connection is coming up;
 * STOPPED: deliberately not running (disabled, removed, shut down); ERROR: it cannot run (a crash
 * loop, a bad command); UNHEALTHY: running but failing its checks.
 */
export const HEALTH_STATUSES = ['HEALTHY', 'UNHEALTHY', 'STARTING', 'STOPPED', 'ERROR'] as const;
export const healthStatusSchema = z.enum(HEALTH_STATUSES, {
  error: 'must be one of HEALTHY, UNHEALTHY, STARTING, STOPPED, ERROR',
});
export type HealthStatus = z.infer<typeof healthStatusSchema>;

const isoDate = z.iso.datetime({ offset: true });

/**
 * The status moved. Only transitions are events: the audited history of a server's health. Every
 * check's time and latency go to a plain table instead (projections/health/health-probes.ts).
 */
export const serverHealthChangedSchema = z.object({
  serverId: z.uuid(),
  /** null for the first status ever recorded. */
  from: healthStatusSchema.nullable(),
  to: healthStatusSchema,
  /** Latency of the check that saw the change, when it got an answer. */
  latencyMs: z.number().int().min(0).nullable(),
  error: z.string().nullable(),
  at: isoDate,
});

export type ServerHealthChanged = {
  type: 'ServerHealthChanged';
  data: z.infer<typeof serverHealthChangedSchema>;
};
export type HealthEvent = ServerHealthChanged;
export type HealthEventType = HealthEvent['type'];

/** Stream category: `health-<serverId>`. */
export const HEALTH_CATEGORY = 'health';

export const healthEventTypeNames: readonly HealthEventType[] = ['ServerHealthChanged'];

export const healthEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ServerHealthChanged', schemaVersion: 1, schema: serverHealthChangedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerHealthEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...healthEventTypes);
}
