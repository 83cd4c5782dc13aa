import { z } from 'zod';
import { SetPolicyInput } from '../../domains/access/commands.ts';
import {
  displayNameSchema,
  grantResourceSchema,
  grantSubjectSchema,
  permissionSchema,
  rateLimitMatchSchema,
  rateLimitSetSchema,
  tenantIdSchema,
} from '../../domains/access/events.ts';
import { ServerSettingsInput, TransportInput } from '../../domains/servers/commands.ts';
import { serverNameSchema, tagSchema } from '../../domains/servers/events.ts';
import { SOURCE_KINDS, sourceNameSchema } from '../../domains/templates/events.ts';
import { MAX_TOOLSET_TOOLS, toolRefSchema, toolsetNameSchema } from '../../domains/toolsets/events.ts';

/**
 * The configuration of one tenant as a document (`switchyard export`, `switchyard apply -f`): what a
 * team keeps in git and promotes between environments. Built from the same input schemas the REST
 * API validates with, so a file that passes here is refused by the API only for what needs the
 * system to judge (a taken name, a location outside the allowed roots, a missing principal).
 *
 * Sealed secrets are never in it: an exported env, header or query value is `"[redacted]"`, the
 * registry's own placeholder — applied to an existing server it keeps the current value; a server
 * cannot be created from it (give a value or `{ secretRef: "env:NAME" }` in the file instead).
 * References stay references.
 */
export const CONFIG_API_VERSION = 'switchyard.dev/v1';
export const CONFIG_KIND = 'Configuration';

export const ServerEntry = z
  .object({
    name: serverNameSchema,
    description: z.string().max(2000).optional(),
    transport: TransportInput,
    tags: z.array(tagSchema).max(32).default([]),
    enabled: z.boolean().default(true),
    /** Timeouts, instances, load balancing, pinning, and the tool overrides (`settings.tools`). */
    settings: ServerSettingsInput.default({}),
  })
  .strict();

export const TemplateSourceEntry = z
  .object({
    name: sourceNameSchema,
    kind: z.enum(SOURCE_KINDS),
    location: z.string().min(1).max(2000),
    ref: z
      .string()
      .min(1)
      .max(250)
      .regex(/^[A-Za-z0-9._/-]+$/)
      .optional(),
    intervalMs: z
      .number()
      .int()
      .min(10_000)
      .max(7 * 86_400_000)
      .optional(),
  })
  .strict();

export const ToolsetEntry = z
  .object({
    name: toolsetNameSchema,
    description: z.string().max(2000).optional(),
    tools: z.array(toolRefSchema).min(1).max(MAX_TOOLSET_TOOLS),
  })
  .strict();

export const TenantEntry = z.object({ id: tenantIdSchema, name: displayNameSchema }).strict();

/**
 * A principal by its name: the same service account has another id in every environment, so an
 * export names a principal whose name is unique in its tenant, and apply finds it by that name.
 */
export const PrincipalByName = z.object({ type: z.literal('principal'), name: displayNameSchema }).strict();

/** A grant is what it says: two grants saying the same are one (a grant has no name to match by). */
export const GrantEntry = z
  .object({
    subject: z.union([grantSubjectSchema, PrincipalByName]),
    permission: permissionSchema,
    resource: grantResourceSchema,
  })
  .strict();

/** Matched by name within the tenant. */
export const PolicyEntry = SetPolicyInput.omit({ tenant: true });

/** Matched by name; `global: true` for limits on every tenant (administrators; `address` limits always are). */
export const RateLimitEntry = rateLimitSetSchema
  .pick({ name: true, scope: true, points: true, windowSeconds: true })
  .extend({
    /** As the API's, and `principalName` for a principal by its name (see PrincipalByName). */
    match: rateLimitMatchSchema
      .extend({ principalName: displayNameSchema.optional() })
      .strict()
      .refine((m) => m.principal === undefined || m.principalName === undefined, {
        message: 'give principal or principalName, not both',
      })
      .default({}),
    global: z.boolean().default(false),
  })
  .strict();

const unique =
  <T>(what: string, key: (item: T) => string) =>
  (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i], message: `${what} ${k} is named twice` });
      seen.add(k);
    }
  };

export const ConfigDocument = z
  .object({
    apiVersion: z.literal(CONFIG_API_VERSION),
    kind: z.literal(CONFIG_KIND),
    tenants: z
      .array(TenantEntry)
      .default([])
      .superRefine(unique('tenant', (t) => t.id)),
    servers: z
      .array(ServerEntry)
      .default([])
      .superRefine(unique('server', (s) => s.name)),
    templateSources: z
      .array(TemplateSourceEntry)
      .default([])
      .superRefine(unique('template source', (s) => s.name)),
    toolsets: z
      .array(ToolsetEntry)
      .default([])
      .superRefine(unique('toolset', (t) => t.name)),
    grants: z.array(GrantEntry).default([]),
    policies: z
      .array(PolicyEntry)
      .default([])
      .superRefine(unique('policy', (p) => p.name)),
    rateLimits: z
      .array(RateLimitEntry)
      .default([])
      .superRefine(unique('rate limit', (r) => r.name)),
  })
  .strict();

export type ConfigDocument = z.infer<typeof ConfigDocument>;
export type ServerEntry = z.infer<typeof ServerEntry>;
export type TemplateSourceEntry = z.infer<typeof TemplateSourceEntry>;
export type ToolsetEntry = z.infer<typeof ToolsetEntry>;
export type TenantEntry = z.infer<typeof TenantEntry>;
export type GrantEntry = z.infer<typeof GrantEntry>;
export type PolicyEntry = z.infer<typeof PolicyEntry>;
export type RateLimitEntry = z.infer<typeof RateLimitEntry>;

/**
 * The document's JSON Schema, for editors (docs/config.schema.json; `switchyard export --schema`).
 * As a writer sees it (`io: 'input'`: defaulted fields optional); checks that need code (a URL
 * carrying a credential, names given twice) are the CLI's and the API's.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConfigDocument, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://switchyard.dev/schemas/config.schema.json',
    title: 'Switchyard configuration',
    description:
      'One tenant’s servers, template sources, toolsets, tenants, grants, policies and rate limits (switchyard export / apply). Sealed secrets appear as "[redacted]": kept on apply, never written out.',
  };
}
