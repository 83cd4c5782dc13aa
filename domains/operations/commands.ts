import { z } from 'zod';
import { decisionReasonSchema, logEventIdSchema, projectionNameSchema } from './events.ts';

/** Error texts can be long (a stack in a message); the log keeps their head. */
const errorText = z.string().transform((s) => (s.length > 2000 ? `${s.slice(0, 1999)}…` : s));

/**
 * Quarantine one event of the log for one projection. The caller (projections/quarantine.ts) has
 * found the event in the log and says where it is; `error` is what the projection failed with on it.
 */
export const QuarantineProjectionEventInput = z
  .object({
    projection: projectionNameSchema,
    eventId: logEventIdSchema,
    position: z.bigint().nonnegative(),
    eventType: z.string().min(1).max(300),
    stream: z.string().min(1).max(300),
    reason: decisionReasonSchema,
    error: errorText.nullable().default(null),
  })
  .strict();
export type QuarantineProjectionEventInput = z.input<typeof QuarantineProjectionEventInput>;

export const ReleaseProjectionEventInput = z
  .object({ projection: projectionNameSchema, eventId: logEventIdSchema, reason: decisionReasonSchema })
  .strict();
export type ReleaseProjectionEventInput = z.input<typeof ReleaseProjectionEventInput>;

export type QuarantineProjectionEvent = {
  type: 'QuarantineProjectionEvent';
  data: z.output<typeof QuarantineProjectionEventInput> & { at: Date };
};
export type ReleaseProjectionEvent = {
  type: 'ReleaseProjectionEvent';
  data: z.output<typeof ReleaseProjectionEventInput> & { at: Date };
};
export type OperationCommand = QuarantineProjectionEvent | ReleaseProjectionEvent;
