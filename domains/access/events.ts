import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { SEALED_BLOB_RE } from '../../kernel/personal-data.ts';
import { PERMISSIONS, ROLES, TENANT_RE } from '../../kernel/principal.ts';

/**
 * Identity and access are events like everything else, so the log answers "who could do X at time
 * T": tenants, principals, API keys (as keyed hashes), grants, policies and rate limits, each in a
 * stream of its own; denials an authenticated principal ran into are recorded too.
 */

const isoDate = z.iso.datetime({ offset: true });

export const tenantIdSchema = z
  .string()
  .regex(TENANT_RE, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');
export const permissionSchema = z.enum(PERMISSIONS);
export const roleSchema = z.enum(ROLES);
export const keyIdSchema = z.string().regex(/^[a-z0-9]{16}$/, 'must be a key id (16 of a-z, 0-9)');
/** A display name: printable, no control characters. */
export const displayNameSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
/** `*` and `?` wildcards over server or tool names. */
export const namePatternSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.:*?/-]+$/, 'must be a name or a pattern of letters, digits, "_.:-/" and "*"/"?"');

export const tenantCreatedSchema = z.object({
  tenantId: tenantIdSchema,
  name: displayNameSchema,
  createdAt: isoDate,
});

export const principalSourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local') }),
  /** Provisioned just in time the first time a token of this issuer named this subject. */
  z.object({
    type: z.literal('oidc'),
    issuer: z.string().min(1).max(500),
    subject: z.string().min(1).max(500),
  }),
]);

/**
 * A value sealed with its principal's data key (kernel/personal-data.ts): what the log holds of a
 * principal's personal data, readable until the principal is erased.
 */
export const sealedValueSchema = z.object({ $sealed: z.string().regex(SEALED_BLOB_RE) }).strict();

export const principalCreatedSchema = z.object({
  principalId: z.uuid(),
  tenant: tenantIdSchema,
  /** The display name: sealed with the principal's data key (erasable), or in clear before that was so. */
  name: z.union([displayNameSchema, sealedValueSchema]),
  kind: z.enum(['user', 'service']),
  roles: z.array(roleSchema),
  source: principalSourceSchema,
  createdAt: isoDate,
});
export const principalRolesChangedSchema = z.object({
  principalId: z.uuid(),
  roles: z.array(roleSchema),
  changedAt: isoDate,
});
export const principalDisabledSchema = z.object({
  principalId: z.uuid(),
  reason: z.string().max(500).optional(),
  disabledAt: isoDate,
});
export const principalEnabledSchema = z.object({ principalId: z.uuid(), enabledAt: isoDate });
/**
 * The principal's personal data was erased: its data keys were destroyed (crypto-shredding,
 * kernel/personal-data.ts), so what was sealed with them reads as erased from now on, and the
 * principal is disabled for good. The event itself holds no personal data.
 */
export const principalErasedSchema = z.object({
  principalId: z.uuid(),
  /** How many data keys this erasure destroyed (0: nothing was left, e.g. a repeated request). */
  keysDestroyed: z.number().int().min(0),
  erasedAt: isoDate,
});

export const apiKeyIssuedSchema = z.object({
  keyId: keyIdSchema,
  principalId: z.uuid(),
  tenant: tenantIdSchema,
  name: displayNameSchema,
  /** What the key allows at most; null: not narrowed (the principal's rights). */
  scopes: z.array(permissionSchema).nullable(),
  /** HMAC-SHA-256 of the whole key under the server pepper, hex. Never the key itself. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  last4: z.string().regex(/^[A-Za-z0-9_-]{4}$/),
  expiresAt: isoDate.nullable(),
  /** The key this one replaces (rotation); the old one is revoked by the same command. */
  rotatedFrom: keyIdSchema.optional(),
  issuedAt: isoDate,
});
export const apiKeyRevokedSchema = z.object({
  keyId: keyIdSchema,
  reason: z.string().max(500).optional(),
  replacedBy: keyIdSchema.optional(),
  revokedAt: isoDate,
});

export const grantSubjectSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('principal'), id: z.uuid() }),
  /** Every principal of the tenant (the team). */
  z.object({ type: z.literal('tenant'), id: tenantIdSchema }),
]);
export const grantResourceSchema = z.discriminatedUnion('type', [
  /** Everything of the grant's tenant. */
  z.object({ type: z.literal('tenant') }),
  /** Servers whose name matches, with their tools, resources and prompts. */
  z.object({ type: z.literal('server'), server: namePatternSchema }),
  /** Tools matching the pattern on servers matching theirs. */
  z.object({ type: z.literal('tool'), server: namePatternSchema, tool: namePatternSchema }),
  /** The platform's operations (metrics, projections): only administrators can grant it. */
  z.object({ type: z.literal('platform') }),
]);
export const grantAddedSchema = z.object({
  grantId: z.uuid(),
  tenant: tenantIdSchema,
  subject: grantSubjectSchema,
  permission: permissionSchema,
  resource: grantResourceSchema,
  addedAt: isoDate,
});
export const grantRemovedSchema = z.object({ grantId: z.uuid(), removedAt: isoDate });

export const policyTargetSchema = z.object({
  /** Actions the policy applies to: names (`tool.call`), prefixes (`tool.*`) or `*`. */
  actions: z
    .array(z.string().regex(/^(\*|[a-z-]+\.(\*|[a-z-]+))$/))
    .min(1)
    .max(50),
  server: namePatternSchema.optional(),
  tool: namePatternSchema.optional(),
});
export const policySetSchema = z.object({
  policyId: z.uuid(),
  tenant: tenantIdSchema,
  name: displayNameSchema,
  description: z.string().max(2000).optional(),
  effect: z.enum(['allow', 'deny']),
  target: policyTargetSchema,
  /** A CEL expression over principal, claims, action, server, tool and args; absent: always. */
  condition: z.string().min(1).max(4000).optional(),
  setAt: isoDate,
});
export const policyRemovedSchema = z.object({ policyId: z.uuid(), removedAt: isoDate });

export const rateLimitMatchSchema = z
  .object({
    principal: z.uuid().optional(),
    server: namePatternSchema.optional(),
    tool: namePatternSchema.optional(),
  })
  .strict();

export const rateLimitSetSchema = z.object({
  rateLimitId: z.uuid(),
  /** null: every tenant (administrators only); `address` limits are always global. */
  tenant: tenantIdSchema.nullable(),
  name: displayNameSchema,
  /** What is counted: requests per client address (before authentication), per principal, per principal and tool. */
  scope: z.enum(['address', 'principal', 'principal-tool']),
  points: z.number().int().min(1).max(1_000_000),
  windowSeconds: z.number().int().min(1).max(86_400),
  /** Narrows which principals (ids) and tools (patterns) the limit applies to. */
  match: rateLimitMatchSchema.default({}),
  setAt: isoDate,
});
export const rateLimitRemovedSchema = z.object({ rateLimitId: z.uuid(), removedAt: isoDate });

export const authorizationDeniedSchema = z.object({
  denialId: z.uuid(),
  principalId: z.string().min(1).max(200),
  tenant: tenantIdSchema,
  action: z.string().min(1).max(100),
  /** What was asked for, as `server/tool` or `tenant:<id>`, never arguments. */
  resource: z.string().min(1).max(600),
  reasons: z.array(z.string().max(500)).max(20),
  policyVersion: z.string().max(40),
  deniedAt: isoDate,
});

type Ev<T extends string, S extends z.ZodType> = { type: T; data: z.infer<S> };
export type TenantCreated = Ev<'TenantCreated', typeof tenantCreatedSchema>;
export type PrincipalCreated = Ev<'PrincipalCreated', typeof principalCreatedSchema>;
export type PrincipalRolesChanged = Ev<'PrincipalRolesChanged', typeof principalRolesChangedSchema>;
export type PrincipalDisabled = Ev<'PrincipalDisabled', typeof principalDisabledSchema>;
export type PrincipalEnabled = Ev<'PrincipalEnabled', typeof principalEnabledSchema>;
export type PrincipalErased = Ev<'PrincipalErased', typeof principalErasedSchema>;
export type ApiKeyIssued = Ev<'ApiKeyIssued', typeof apiKeyIssuedSchema>;
export type ApiKeyRevoked = Ev<'ApiKeyRevoked', typeof apiKeyRevokedSchema>;
export type GrantAdded = Ev<'GrantAdded', typeof grantAddedSchema>;
export type GrantRemoved = Ev<'GrantRemoved', typeof grantRemovedSchema>;
export type PolicySet = Ev<'PolicySet', typeof policySetSchema>;
export type PolicyRemoved = Ev<'PolicyRemoved', typeof policyRemovedSchema>;
export type RateLimitSet = Ev<'RateLimitSet', typeof rateLimitSetSchema>;
export type RateLimitRemoved = Ev<'RateLimitRemoved', typeof rateLimitRemovedSchema>;
export type AuthorizationDenied = Ev<'AuthorizationDenied', typeof authorizationDeniedSchema>;

export type PrincipalEvent =
  | PrincipalCreated
  | PrincipalRolesChanged
  | PrincipalDisabled
  | PrincipalEnabled
  | PrincipalErased;
export type ApiKeyEvent = ApiKeyIssued | ApiKeyRevoked;
export type GrantEvent = GrantAdded | GrantRemoved;
export type PolicyEvent = PolicySet | PolicyRemoved;
export type RateLimitEvent = RateLimitSet | RateLimitRemoved;
export type AccessEvent =
  | TenantCreated
  | PrincipalEvent
  | ApiKeyEvent
  | GrantEvent
  | PolicyEvent
  | RateLimitEvent;

export type GrantSubject = z.infer<typeof grantSubjectSchema>;
export type GrantResource = z.infer<typeof grantResourceSchema>;
export type PolicyTarget = z.infer<typeof policyTargetSchema>;

/** Stream categories: `tenant-<id>`, `principal-<uuid>`, `apikey-<keyId>`, `grant-<uuid>`, … */
export const ACCESS_CATEGORIES = {
  tenant: 'tenant',
  principal: 'principal',
  apiKey: 'apikey',
  grant: 'grant',
  policy: 'policy',
  rateLimit: 'ratelimit',
} as const;
/** The categories whose events change who may do what (the gateways follow these). */
export const ACCESS_CATEGORY_LIST: readonly string[] = Object.values(ACCESS_CATEGORIES);
export const DENIAL_CATEGORY = 'denial';

export const accessEventTypes: readonly EventTypeDefinition[] = [
  { type: 'TenantCreated', schemaVersion: 1, schema: tenantCreatedSchema },
  { type: 'PrincipalCreated', schemaVersion: 1, schema: principalCreatedSchema },
  { type: 'PrincipalRolesChanged', schemaVersion: 1, schema: principalRolesChangedSchema },
  { type: 'PrincipalDisabled', schemaVersion: 1, schema: principalDisabledSchema },
  { type: 'PrincipalEnabled', schemaVersion: 1, schema: principalEnabledSchema },
  { type: 'PrincipalErased', schemaVersion: 1, schema: principalErasedSchema },
  { type: 'ApiKeyIssued', schemaVersion: 1, schema: apiKeyIssuedSchema },
  { type: 'ApiKeyRevoked', schemaVersion: 1, schema: apiKeyRevokedSchema },
  { type: 'GrantAdded', schemaVersion: 1, schema: grantAddedSchema },
  { type: 'GrantRemoved', schemaVersion: 1, schema: grantRemovedSchema },
  { type: 'PolicySet', schemaVersion: 1, schema: policySetSchema },
  { type: 'PolicyRemoved', schemaVersion: 1, schema: policyRemovedSchema },
  { type: 'RateLimitSet', schemaVersion: 1, schema: rateLimitSetSchema },
  { type: 'RateLimitRemoved', schemaVersion: 1, schema: rateLimitRemovedSchema },
  { type: 'AuthorizationDenied', schemaVersion: 1, schema: authorizationDeniedSchema },
];

export function registerAccessEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...accessEventTypes);
}
