import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';

/** Stream category: `projection-<name>`, the operators' decisions about one projection. */
export const PROJECTION_CATEGORY = 'projection';

const isoDate = z.iso.datetime({ offset: true });

/** A projection's name, as the runner knows it (`servers`, `tool-calls`…). */
export const projectionNameSchema = z.string().min(1).max(100);
/** Why an operator decided: required, so the log says it, not only who. */
export const decisionReasonSchema = z.string().trim().min(1).max(500);
/** An event id of the log (any 8-4-4-4-12 hex id, as the event store accepts). */
export const logEventIdSchema = z.guid().transform((s) => s.toLowerCase());

/**
 * An operator decided that `projection` skips one event of the log: its tables will never hold
 * what that event would have written, in live mode and in every rebuild, until it is released. The
 * event itself stays in the log untouched; this records who decided, why, and what the projection
 * had failed with (`error`: null when it was quarantined before the projection met it).
 */
export const projectionEventQuarantinedSchema = z.object({
  projection: projectionNameSchema,
  eventId: z.guid(),
  /** Global position of the event (decimal string). */
  position: z.string().regex(/^\d{1,19}$/),
  eventType: z.string().min(1),
  stream: z.string().min(1),
  reason: decisionReasonSchema,
  error: z.string().nullable(),
  quarantinedAt: isoDate,
});

/**
 * The quarantine of an event is lifted: the next rebuild applies it again. The live tables, which
 * skipped it, do not change until then (a checkpoint never moves back).
 */
export const projectionEventReleasedSchema = z.object({
  projection: projectionNameSchema,
  eventId: z.guid(),
  reason: decisionReasonSchema,
  releasedAt: isoDate,
});

export type ProjectionEventQuarantined = {
  type: 'ProjectionEventQuarantined';
  data: z.infer<typeof projectionEventQuarantinedSchema>;
};
export type ProjectionEventReleased = {
  type: 'ProjectionEventReleased';
  data: z.infer<typeof projectionEventReleasedSchema>;
};
export type OperationEvent = ProjectionEventQuarantined | ProjectionEventReleased;
export type OperationEventType = OperationEvent['type'];

export const operationEventTypeNames: readonly OperationEventType[] = [
  'ProjectionEventQuarantined',
  'ProjectionEventReleased',
];

export const operationEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ProjectionEventQuarantined', schemaVersion: 1, schema: projectionEventQuarantinedSchema },
  { type: 'ProjectionEventReleased', schemaVersion: 1, schema: projectionEventReleasedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerOperationEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...operationEventTypes);
}
