import { z } from 'zod';
import { DEFAULT_TENANT, TENANT_RE } from './principal.ts';

/**
 * Who a resource belongs to, as the events that create one record it: the tenant it lives in and
 * the principal that created it. Shared by the domains so that every creation event spells the two
 * fields alike.
 */

export const tenantIdSchema = z
  .string()
  .regex(TENANT_RE, 'must be 1-63 characters of a-z, 0-9 or "-", starting with a letter or digit');

export const ownerIdSchema = z.string().min(1).max(200);

/** The owner of everything recorded before owners were. */
export const UNKNOWN_OWNER = 'unknown';

/**
 * The fields as creation events hold them. Optional with a default, so that events written before
 * tenancy existed stay valid without an upcaster and read as the default tenant's, owner unknown.
 */
export const recordedTenant = tenantIdSchema.default(DEFAULT_TENANT);
export const recordedOwner = ownerIdSchema.default(UNKNOWN_OWNER);

/** What a command creates belongs to its actor, in the actor's tenant. */
export function ownershipOf(meta: { actor: string; tenant?: string | undefined }): {
  tenant: string;
  owner: string;
} {
  return { tenant: meta.tenant ?? DEFAULT_TENANT, owner: meta.actor };
}
