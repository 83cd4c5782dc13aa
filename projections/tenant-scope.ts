/**
 * Whose rows a read-model query sees: one tenant's, or every tenant's when `tenant` is undefined
 * (platform administrators). A row of another tenant reads as not found. Templates and template
 * sources of no tenant (null: the built-in ones) are every tenant's.
 */
export interface TenantScope {
  tenant?: string | undefined;
}
