import type { Kysely } from 'kysely';
import type { ReadModelTables } from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

export interface ToolsetView {
  name: string;
  tenant: string;
  description: string | null;
  tools: Array<{ server: string; tool: string }>;
  revision: string;
  updatedAt: string;
}

function view(r: {
  name: string;
  tenant: string;
  description: string | null;
  tools: Array<{ server: string; tool: string }>;
  revision: string;
  updated_at: Date;
}): ToolsetView {
  return {
    name: r.name,
    tenant: r.tenant,
    description: r.description,
    tools: r.tools,
    revision: String(r.revision),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** Toolsets by name (of one tenant, or every tenant for an unscoped caller). */
export async function listToolsets(
  db: Kysely<ReadModelTables>,
  scope: TenantScope = {},
): Promise<ToolsetView[]> {
  let q = db.selectFrom('toolsets').selectAll();
  if (scope.tenant !== undefined) q = q.where('tenant', '=', scope.tenant);
  return (await q.orderBy('name').orderBy('tenant').execute()).map(view);
}

/** One tenant's toolset of that name. */
export async function getToolset(
  db: Kysely<ReadModelTables>,
  tenant: string,
  name: string,
): Promise<ToolsetView | undefined> {
  const r = await db
    .selectFrom('toolsets')
    .selectAll()
    .where('tenant', '=', tenant)
    .where('name', '=', name)
    .executeTakeFirst();
  return r ? view(r) : undefined;
}
