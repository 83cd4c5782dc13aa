import { z } from 'zod';
import { catalogSchema } from './events.ts';

// ---------------------------------------------------------------------------------------------
// Inputs: what the discovery saga hands the application layer. Times are optional: when absent the
// handler reads its clock. The catalog's hash is computed by the handler, never taken on trust.
// ---------------------------------------------------------------------------------------------

const revisionInput = z
  .union([z.number().int().min(0), z.bigint().min(0n)])
  .transform((v) => Number(v))
  .refine((v) => Number.isSafeInteger(v), 'must be a safe integer');
const timeInput = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);
/** Upstream error texts can be long; the log keeps their head. */
const reasonInput = z
  .string()
  .min(1, 'must not be empty')
  .transform((s) => (s.length > 2000 ? `${s.slice(0, 1999)}…` : s));

export const RecordDiscoveryInput = z
  .object({
    serverId: z.uuid(),
    serverRevision: revisionInput,
    catalog: catalogSchema,
    discoveredAt: timeInput.optional(),
  })
  .strict();
export type RecordDiscoveryInput = z.input<typeof RecordDiscoveryInput>;

export const RecordDiscoveryFailureInput = z
  .object({
    serverId: z.uuid(),
    serverRevision: revisionInput.optional(),
    reason: reasonInput,
    attempt: z.number().int().min(1),
    willRetry: z.boolean(),
    failedAt: timeInput.optional(),
  })
  .strict();
export type RecordDiscoveryFailureInput = z.input<typeof RecordDiscoveryFailureInput>;

export const ClearCatalogInput = z
  .object({
    serverId: z.uuid(),
    /** Omit on removal: the clearing is then final. */
    serverRevision: revisionInput.optional(),
    reason: z.string().max(500).optional(),
    clearedAt: timeInput.optional(),
  })
  .strict();
export type ClearCatalogInput = z.input<typeof ClearCatalogInput>;

// ---------------------------------------------------------------------------------------------
// Commands: what the decider sees.
// ---------------------------------------------------------------------------------------------

export const RecordDiscovery = z.object({
  type: z.literal('RecordDiscovery'),
  data: z.object({
    serverId: z.uuid(),
    serverRevision: z.number().int().min(0),
    catalog: catalogSchema,
    /** catalogHash(catalog). */
    hash: z.string(),
    discoveredAt: z.date(),
  }),
});
export type RecordDiscovery = z.infer<typeof RecordDiscovery>;

export const RecordDiscoveryFailure = z.object({
  type: z.literal('RecordDiscoveryFailure'),
  data: z.object({
    serverId: z.uuid(),
    serverRevision: z.number().int().min(0).optional(),
    reason: z.string(),
    attempt: z.number().int().min(1),
    willRetry: z.boolean(),
    failedAt: z.date(),
  }),
});
export type RecordDiscoveryFailure = z.infer<typeof RecordDiscoveryFailure>;

export const ClearCatalog = z.object({
  type: z.literal('ClearCatalog'),
  data: z.object({
    serverId: z.uuid(),
    serverRevision: z.number().int().min(0).optional(),
    reason: z.string().optional(),
    clearedAt: z.date(),
  }),
});
export type ClearCatalog = z.infer<typeof ClearCatalog>;

export type CatalogCommand = RecordDiscovery | RecordDiscoveryFailure | ClearCatalog;
