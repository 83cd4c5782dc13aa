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
    /** The server's `pinTools` setting when the discovery ran: tools are checked against approvals. */
    pinTools: z.boolean().default(false),
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

export const ApproveToolDefinitionInput = z
  .object({
    serverId: z.uuid(),
    tool: z.string().min(1).max(1000),
    /** The definition hash the operator reviewed (GET …/tools/pending): exactly that is approved. */
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 (hex) of the definition reviewed'),
    /** Whether the server pins its tools now (its settings, as the caller read them). */
    pinned: z.boolean(),
    approvedAt: timeInput.optional(),
  })
  .strict();
export type ApproveToolDefinitionInput = z.input<typeof ApproveToolDefinitionInput>;

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
    /** Check the tools against their approvals (the server's `pinTools` setting). */
    pinTools: z.boolean(),
    /** toolDefinitionHash of each tool, by name, in the catalog's order. */
    toolHashes: z.array(z.tuple([z.string(), z.string()])),
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

export const ApproveToolDefinition = z.object({
  type: z.literal('ApproveToolDefinition'),
  data: z.object({
    serverId: z.uuid(),
    tool: z.string(),
    hash: z.string(),
    pinned: z.boolean(),
    approvedAt: z.date(),
  }),
});
export type ApproveToolDefinition = z.infer<typeof ApproveToolDefinition>;

export type CatalogCommand = RecordDiscovery | RecordDiscoveryFailure | ClearCatalog | ApproveToolDefinition;
