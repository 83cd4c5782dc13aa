import { createHash } from 'node:crypto';
import type { Catalog, CatalogTool } from './events.ts';

/**
 * JSON with object keys sorted at every depth and `undefined` members left out, so two values that
 * mean the same serialise to the same text whatever their key order (JSONB reorders keys, and
 * servers list them as they please). Array order is kept: in JSON it means something.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The catalog's fingerprint: sha256 (hex) of its canonical JSON, with tools, resources, templates
 * and prompts sorted by their key (name, uri, uriTemplate, name). A server that lists the same
 * things in another order has not changed, and must not produce a CapabilitiesDiscovered.
 */
export function catalogHash(catalog: Catalog): string {
  const byKey = <T>(items: readonly T[], key: (t: T) => string): T[] =>
    [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const normalised = {
    ...catalog,
    tools: byKey(catalog.tools, (t) => t.name),
    resources: byKey(catalog.resources, (r) => r.uri),
    resourceTemplates: byKey(catalog.resourceTemplates, (r) => r.uriTemplate),
    prompts: byKey(catalog.prompts, (p) => p.name),
  };
  return createHash('sha256').update(canonicalJson(normalised), 'utf8').digest('hex');
}

/**
 * What an operator reviews of a tool and what pinning fingerprints: the fields a model reads or a
 * client acts on. Anything else a server lists (icons, `_meta`, fields of a newer protocol) may
 * change without a review.
 */
export interface ToolDefinition {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: Record<string, unknown> | undefined;
}

/** The reviewed part of a tool as a server listed it (or as a read model stored it). */
export function toolDefinition(tool: CatalogTool | Record<string, unknown>): ToolDefinition {
  const t = tool as Partial<ToolDefinition>;
  return {
    name: String(t.name),
    ...(t.title !== undefined && { title: t.title }),
    ...(t.description !== undefined && { description: t.description }),
    inputSchema: t.inputSchema ?? {},
    ...(t.outputSchema !== undefined && { outputSchema: t.outputSchema }),
    ...(t.annotations !== undefined && { annotations: t.annotations }),
  };
}

/**
 * A tool's definition fingerprint for pinning: sha256 (hex) of the canonical JSON of its name, title,
 * description, inputSchema, outputSchema and annotations. An upstream that rewords a description
 * (a "rug pull" telling the model to do something else) changes it; one that reorders keys does not.
 */
export function toolDefinitionHash(tool: CatalogTool | Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson(toolDefinition(tool)), 'utf8')
    .digest('hex');
}
