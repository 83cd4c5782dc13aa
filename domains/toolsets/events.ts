import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { recordedTenant } from '../../kernel/ownership.ts';

const isoDate = z.iso.datetime({ offset: true });

/** A toolset's name: lower-case, URL-safe, as a server's (`/toolsets/<name>/mcp`). */
export const TOOLSET_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const toolsetNameSchema = z
  .string()
  .regex(TOOLSET_NAME_RE, 'must be 1-63 of a-z, 0-9, "_" or "-", starting with a letter or digit');

/** One tool of a toolset: a server (by name) and the tool as that server serves it. */
export const toolRefSchema = z
  .object({
    server: z.string().min(1).max(63),
    tool: z.string().min(1).max(256),
  })
  .strict();
export type ToolRef = z.infer<typeof toolRefSchema>;

export const MAX_TOOLSET_TOOLS = 500;

/**
 * A named set of tools, served on its own endpoint (`/toolsets/<name>/mcp`): a client loads only
 * what it needs. Defined again, it is replaced whole.
 */
export const toolsetDefinedSchema = z.object({
  toolsetId: z.uuid(),
  name: toolsetNameSchema,
  description: z.string().max(2_000).optional(),
  tools: z.array(toolRefSchema).min(1).max(MAX_TOOLSET_TOOLS),
  tenant: recordedTenant,
  definedAt: isoDate,
});

export const toolsetRemovedSchema = z.object({
  toolsetId: z.uuid(),
  name: toolsetNameSchema,
  tenant: recordedTenant,
  removedAt: isoDate,
});

export type ToolsetDefined = { type: 'ToolsetDefined'; data: z.infer<typeof toolsetDefinedSchema> };
export type ToolsetRemoved = { type: 'ToolsetRemoved'; data: z.infer<typeof toolsetRemovedSchema> };
export type ToolsetEvent = ToolsetDefined | ToolsetRemoved;

/** Stream category: `toolset-<toolsetId>`. */
export const TOOLSET_CATEGORY = 'toolset';

export const toolsetEventTypeNames: readonly ToolsetEvent['type'][] = ['ToolsetDefined', 'ToolsetRemoved'];

export const toolsetEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ToolsetDefined', schemaVersion: 1, schema: toolsetDefinedSchema },
  { type: 'ToolsetRemoved', schemaVersion: 1, schema: toolsetRemovedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerToolsetEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...toolsetEventTypes);
}
