import { createHash } from 'node:crypto';
import type { Catalog } from './events.ts';

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
