import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';

/** The discovery saga's own stream per server: `discovery-<serverId>` (its inbox and its progress). */
export const DISCOVERY_CATEGORY = 'discovery';

export const discoveryReasons = [
  'registered',
  'enabled',
  'updated',
  'refresh',
  'list_changed',
  'startup',
] as const;
export type DiscoveryReason = (typeof discoveryReasons)[number];

const isoDate = z.iso.datetime({ offset: true });

export const discoveryRequestedSchema = z.object({
  serverId: z.uuid(),
  reason: z.enum(discoveryReasons),
  serverRevision: z.string().regex(/^-?\d+$/),
  requestedAt: isoDate,
});
export const discoveryAttemptFailedSchema = z.object({
  serverId: z.uuid(),
  attempt: z.number().int().min(1),
  error: z.string(),
  at: isoDate,
  /** When the next attempt is due; null when the saga gave up (until the next request). */
  nextAttemptAt: isoDate.nullable(),
});
export const discoveryCompletedSchema = z.object({
  serverId: z.uuid(),
  attempt: z.number().int().min(1),
  hash: z.string(),
  changed: z.boolean(),
  at: isoDate,
});
export const discoveryCancelledSchema = z.object({ serverId: z.uuid(), reason: z.string(), at: isoDate });

export type DiscoveryRequested = {
  type: 'DiscoveryRequested';
  data: z.infer<typeof discoveryRequestedSchema>;
};
export type DiscoveryAttemptFailed = {
  type: 'DiscoveryAttemptFailed';
  data: z.infer<typeof discoveryAttemptFailedSchema>;
};
export type DiscoveryCompleted = {
  type: 'DiscoveryCompleted';
  data: z.infer<typeof discoveryCompletedSchema>;
};
export type DiscoveryCancelled = {
  type: 'DiscoveryCancelled';
  data: z.infer<typeof discoveryCancelledSchema>;
};
export type DiscoveryEvent =
  | DiscoveryRequested
  | DiscoveryAttemptFailed
  | DiscoveryCompleted
  | DiscoveryCancelled;

export const discoveryEventTypes: readonly EventTypeDefinition[] = [
  { type: 'DiscoveryRequested', schemaVersion: 1, schema: discoveryRequestedSchema },
  { type: 'DiscoveryAttemptFailed', schemaVersion: 1, schema: discoveryAttemptFailedSchema },
  { type: 'DiscoveryCompleted', schemaVersion: 1, schema: discoveryCompletedSchema },
  { type: 'DiscoveryCancelled', schemaVersion: 1, schema: discoveryCancelledSchema },
];

export function registerDiscoveryEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...discoveryEventTypes);
}
