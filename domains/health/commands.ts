import { z } from 'zod';
import { healthStatusSchema } from './events.ts';

/** One health check's outcome, as a runner reports it. `checkedAt` defaults to the handler's clock. */
export const RecordHealthInput = z
  .object({
    serverId: z.uuid(),
    status: healthStatusSchema,
    latencyMs: z
      .number()
      .min(0)
      .transform((v) => Math.round(v))
      .optional(),
    /** Upstream error texts can be long; the log keeps their head. */
    error: z
      .string()
      .transform((s) => (s.length > 2000 ? `${s.slice(0, 1999)}…` : s))
      .optional(),
    checkedAt: z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]).optional(),
  })
  .strict();
export type RecordHealthInput = z.input<typeof RecordHealthInput>;

export const RecordHealth = z.object({
  type: z.literal('RecordHealth'),
  data: z.object({
    serverId: z.uuid(),
    status: healthStatusSchema,
    latencyMs: z.number().int().min(0).optional(),
    error: z.string().optional(),
    checkedAt: z.date(),
  }),
});
export type RecordHealth = z.infer<typeof RecordHealth>;

export type HealthCommand = RecordHealth;
