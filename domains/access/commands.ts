import { z } from 'zod';
import {
  displayNameSchema,
  grantResourceSchema,
  grantSubjectSchema,
  permissionSchema,
  policyTargetSchema,
  rateLimitSetSchema,
  roleSchema,
  tenantIdSchema,
} from './events.ts';

/** What callers send (REST bodies, CLI); the use cases turn them into commands. */

export const CreateTenantInput = z.object({ id: tenantIdSchema, name: displayNameSchema }).strict();

export const CreatePrincipalInput = z
  .object({
    name: displayNameSchema,
    kind: z.enum(['user', 'service']).default('service'),
    roles: z.array(roleSchema).max(5).default(['reader']),
    /** Administrators may create principals in any tenant; everyone else in their own. */
    tenant: tenantIdSchema.optional(),
  })
  .strict();

export const UpdatePrincipalInput = z
  .object({ roles: z.array(roleSchema).max(5).optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((v) => v.roles !== undefined || v.disabled !== undefined, 'give roles or disabled');

const instant = z.iso.datetime({ offset: true });

export const IssueApiKeyInput = z
  .object({
    name: displayNameSchema,
    /** Whose key: the caller's own when absent. */
    principalId: z.uuid().optional(),
    /** At most these permissions; absent: the principal's (or, from a narrowed credential, the credential's). */
    scopes: z.array(permissionSchema).min(1).max(4).optional(),
    expiresAt: instant.optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .refine(
    (v) => v.expiresAt === undefined || v.expiresInDays === undefined,
    'give expiresAt or expiresInDays, not both',
  );

export const AddGrantInput = z
  .object({
    subject: grantSubjectSchema,
    permission: permissionSchema,
    resource: grantResourceSchema,
    /** Administrators may grant in any tenant; everyone else in their own. */
    tenant: tenantIdSchema.optional(),
  })
  .strict();

export const SetPolicyInput = z
  .object({
    name: displayNameSchema,
    description: z.string().max(2000).optional(),
    effect: z.enum(['allow', 'deny']),
    target: policyTargetSchema,
    condition: z.string().min(1).max(4000).optional(),
    tenant: tenantIdSchema.optional(),
  })
  .strict();

export const SetRateLimitInput = rateLimitSetSchema
  .pick({ name: true, scope: true, points: true, windowSeconds: true, match: true })
  .extend({
    /** null: every tenant (administrators only); absent: the caller's tenant. Address limits are global. */
    tenant: tenantIdSchema.nullable().optional(),
  })
  .strict();

export const ExplainInput = z
  .object({
    /** Whose access: the caller when absent. */
    principal: z.uuid().optional(),
    action: z.string().min(1).max(60),
    server: z.string().min(1).max(63).optional(),
    tool: z.string().min(1).max(256).optional(),
    /** JSON object of tool arguments, for conditions that read them. */
    args: z.record(z.string(), z.unknown()).optional(),
    /** Evaluate against the access rules as they were at this instant. */
    at: instant.optional(),
  })
  .strict();

export type CreateTenantInput = z.infer<typeof CreateTenantInput>;
export type CreatePrincipalInput = z.input<typeof CreatePrincipalInput>;
export type UpdatePrincipalInput = z.infer<typeof UpdatePrincipalInput>;
export type IssueApiKeyInput = z.infer<typeof IssueApiKeyInput>;
export type AddGrantInput = z.infer<typeof AddGrantInput>;
export type SetPolicyInput = z.infer<typeof SetPolicyInput>;
export type SetRateLimitInput = z.input<typeof SetRateLimitInput>;
export type ExplainInput = z.infer<typeof ExplainInput>;
