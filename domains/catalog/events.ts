import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';

// ---------------------------------------------------------------------------------------------
// A catalog is what an MCP server offers, as its list_* answers gave it. Only the outer shape is
// checked (the keys the gateway routes by); each item is kept whole, so fields a newer protocol
// revision adds (icons, _meta, …) reach clients unchanged.
// ---------------------------------------------------------------------------------------------

const jsonObject = z.record(z.string(), z.unknown());

export const catalogToolSchema = z
  .object({
    name: z.string().min(1, 'a tool needs a name'),
    title: z.string().optional(),
    description: z.string().optional(),
    inputSchema: jsonObject,
    outputSchema: jsonObject.optional(),
    annotations: jsonObject.optional(),
  })
  .loose();

export const catalogResourceSchema = z
  .object({
    uri: z.string().min(1, 'a resource needs a uri'),
    name: z.string(),
    title: z.string().optional(),
    description: z.string().optional(),
    mimeType: z.string().optional(),
  })
  .loose();

export const catalogResourceTemplateSchema = z
  .object({
    uriTemplate: z.string().min(1, 'a resource template needs a uriTemplate'),
    name: z.string(),
    title: z.string().optional(),
    description: z.string().optional(),
    mimeType: z.string().optional(),
  })
  .loose();

export const catalogPromptSchema = z
  .object({
    name: z.string().min(1, 'a prompt needs a name'),
    title: z.string().optional(),
    description: z.string().optional(),
    arguments: z.array(jsonObject).optional(),
  })
  .loose();

/**
 * Everything one server offers. Keys must be unique per list (tool and prompt names, resource URIs,
 * template URIs): the gateway routes by them, and a server that repeats one has no single answer.
 */
export const catalogSchema = z
  .object({
    serverInfo: z.object({ name: z.string(), version: z.string() }).loose().optional(),
    protocolVersion: z.string().optional(),
    instructions: z.string().optional(),
    capabilities: jsonObject,
    tools: z.array(catalogToolSchema),
    resources: z.array(catalogResourceSchema),
    resourceTemplates: z.array(catalogResourceTemplateSchema),
    prompts: z.array(catalogPromptSchema),
  })
  .superRefine((c, ctx) => {
    const unique = <T>(list: readonly T[], path: string, key: (t: T) => string, what: string) => {
      const seen = new Set<string>();
      for (const [i, item] of list.entries()) {
        const k = key(item);
        if (seen.has(k))
          ctx.addIssue({ code: 'custom', path: [path, i], message: `duplicate ${what} "${k}"` });
        seen.add(k);
      }
    };
    unique(c.tools, 'tools', (t) => t.name, 'tool name');
    unique(c.resources, 'resources', (r) => r.uri, 'resource uri');
    unique(c.resourceTemplates, 'resourceTemplates', (r) => r.uriTemplate, 'resource template');
    unique(c.prompts, 'prompts', (p) => p.name, 'prompt name');
  });
export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogTool = z.infer<typeof catalogToolSchema>;
export type CatalogResource = z.infer<typeof catalogResourceSchema>;
export type CatalogResourceTemplate = z.infer<typeof catalogResourceTemplateSchema>;
export type CatalogPrompt = z.infer<typeof catalogPromptSchema>;

const isoDate = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');
/** Revision of the server stream (the registration) the discovery ran against. */
const serverRevision = z.number().int().min(0);

/** A catalog unlike the last one recorded (its hash differs). */
export const capabilitiesDiscoveredSchema = z.object({
  serverId: z.uuid(),
  serverRevision,
  hash: sha256Hex,
  catalog: catalogSchema,
  discoveredAt: isoDate,
});

/** One failed attempt at discovery; `willRetry` says whether the saga tries again. */
export const discoveryFailedSchema = z.object({
  serverId: z.uuid(),
  serverRevision: serverRevision.optional(),
  reason: z.string().min(1),
  attempt: z.number().int().min(1),
  willRetry: z.boolean(),
  failedAt: isoDate,
});

/** A discovery succeeded after failures, with the catalog unchanged (so no CapabilitiesDiscovered). */
export const discoveryRecoveredSchema = z.object({
  serverId: z.uuid(),
  serverRevision,
  hash: sha256Hex,
  recoveredAt: isoDate,
});

/** The server was removed (or otherwise stopped offering anything): its catalog is empty. */
export const catalogClearedSchema = z.object({
  serverId: z.uuid(),
  /**
   * Discoveries against this revision of the server or an older one are stale from now on. Absent:
   * the clearing is final (a removed server never comes back), every later discovery is stale.
   */
  serverRevision: serverRevision.optional(),
  reason: z.string().optional(),
  clearedAt: isoDate,
});

// ---------------------------------------------------------------------------------------------
// Tool pinning (rug pulls). A server whose settings say `pinTools` serves a tool only while its
// definition hash (toolDefinitionHash) equals the hash approved for it. The approvals live in the
// same `catalog-<serverId>` stream as the catalogs they judge, so one decider sees both (a change is
// detected against the approvals, an approval checked against the current catalog) and the change
// feed on the catalog category tells the sessions when a tool is withheld or comes back.
// ---------------------------------------------------------------------------------------------

/**
 * A discovery of a pinning server found a tool whose definition is not the approved one (a changed
 * tool; or a new one, `previousHash` null, once anything was approved). The tool is withheld from
 * clients until its new hash is approved. Recorded once per new definition.
 */
export const toolDefinitionChangedSchema = z.object({
  serverId: z.uuid(),
  tool: z.string().min(1),
  previousHash: sha256Hex.nullable(),
  newHash: sha256Hex,
  detectedAt: isoDate,
});

/**
 * A tool's definition approved: served while its hash is `hash`. The actor (metadata) is the
 * operator; `system:discovery` for what the first discovery of a pinning server found (trust on
 * first use).
 */
export const toolDefinitionApprovedSchema = z.object({
  serverId: z.uuid(),
  tool: z.string().min(1),
  hash: sha256Hex,
  approvedAt: isoDate,
});

export type CapabilitiesDiscovered = {
  type: 'CapabilitiesDiscovered';
  data: z.infer<typeof capabilitiesDiscoveredSchema>;
};
export type DiscoveryFailed = { type: 'DiscoveryFailed'; data: z.infer<typeof discoveryFailedSchema> };
export type DiscoveryRecovered = {
  type: 'DiscoveryRecovered';
  data: z.infer<typeof discoveryRecoveredSchema>;
};
export type CatalogCleared = { type: 'CatalogCleared'; data: z.infer<typeof catalogClearedSchema> };

export type ToolDefinitionChanged = {
  type: 'ToolDefinitionChanged';
  data: z.infer<typeof toolDefinitionChangedSchema>;
};
export type ToolDefinitionApproved = {
  type: 'ToolDefinitionApproved';
  data: z.infer<typeof toolDefinitionApprovedSchema>;
};

export type CatalogEvent =
  | CapabilitiesDiscovered
  | DiscoveryFailed
  | DiscoveryRecovered
  | CatalogCleared
  | ToolDefinitionChanged
  | ToolDefinitionApproved;
export type CatalogEventType = CatalogEvent['type'];

/** Stream category: `catalog-<serverId>`. */
export const CATALOG_CATEGORY = 'catalog';

export const catalogEventTypeNames: readonly CatalogEventType[] = [
  'CapabilitiesDiscovered',
  'DiscoveryFailed',
  'DiscoveryRecovered',
  'CatalogCleared',
  'ToolDefinitionChanged',
  'ToolDefinitionApproved',
];

export const catalogEventTypes: readonly EventTypeDefinition[] = [
  { type: 'CapabilitiesDiscovered', schemaVersion: 1, schema: capabilitiesDiscoveredSchema },
  { type: 'DiscoveryFailed', schemaVersion: 1, schema: discoveryFailedSchema },
  { type: 'DiscoveryRecovered', schemaVersion: 1, schema: discoveryRecoveredSchema },
  { type: 'CatalogCleared', schemaVersion: 1, schema: catalogClearedSchema },
  { type: 'ToolDefinitionChanged', schemaVersion: 1, schema: toolDefinitionChangedSchema },
  { type: 'ToolDefinitionApproved', schemaVersion: 1, schema: toolDefinitionApprovedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerCatalogEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...catalogEventTypes);
}
