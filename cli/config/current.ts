import { apiGet, type Gateway } from '../http-client.ts';
import { canonical } from './canonical.ts';
import {
  CONFIG_API_VERSION,
  CONFIG_KIND,
  type ConfigDocument,
  GrantEntry,
  PolicyEntry,
  RateLimitEntry,
  ServerEntry,
  TemplateSourceEntry,
  TenantEntry,
  ToolsetEntry,
} from './document.ts';

/**
 * The configuration a gateway holds now, read through its REST API as the caller sees it (so an
 * export shows exactly what the caller may read, redacted as the API redacts it), with the ids
 * apply needs to change or remove what has no name of its own in the document.
 */
export interface CurrentConfiguration {
  document: ConfigDocument;
  /** Whose configuration: the caller's tenant. */
  tenant: string;
  admin: boolean;
  ids: {
    policies: Map<string, string>;
    rateLimits: Map<string, string>;
    /** A rate limit's match with its principal by id, by the limit's name. */
    rateLimitMatches: Map<string, RateLimitEntry['match']>;
    /**
     * By the canonical form of the grant as the API has it (principal by id): the grant's id, and
     * the grant as the document shows it (principal by name when the name is unique).
     */
    grants: Map<string, { id: string; entry: GrantEntry }>;
  };
  /** The tenant's principals' ids by name (a name two principals share has two). */
  principals: Map<string, string[]>;
}

interface ServerView {
  name: string;
  tenant: string;
  description: string | null;
  transport: Record<string, unknown>;
  tags: string[];
  enabled: boolean;
  settings: Record<string, unknown>;
}
interface SourceView {
  name: string;
  tenant: string | null;
  kind: 'directory' | 'git';
  location: string;
  ref: string | null;
  intervalMs: number | null;
  builtIn: boolean;
  removedAt: string | null;
}
interface ToolsetView {
  name: string;
  tenant: string;
  description: string | null;
  tools: Array<{ server: string; tool: string }>;
}
interface GrantView extends GrantEntry {
  grantId: string;
  tenant: string | null;
}
interface PolicyView extends PolicyEntry {
  policyId: string;
  tenant: string | null;
}
interface RateLimitView extends Omit<RateLimitEntry, 'global'> {
  rateLimitId: string;
  tenant: string | null;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * `value` with the maps under `fields` in key order: the text of an export depends on the
 * configuration only, not on the order a map happened to be written in.
 */
function byKey(value: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out = { ...value };
  for (const f of fields) {
    const map = out[f];
    if (map !== null && typeof map === 'object' && !Array.isArray(map)) {
      out[f] = Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }
  return out;
}

/** Reads the caller's configuration from the gateway. */
export async function readCurrentConfiguration(gateway: Gateway): Promise<CurrentConfiguration> {
  const me = await apiGet<{ tenant: string; roles: string[] }>(gateway, '/api/v1/me');
  const admin = me.roles.includes('admin');
  const mine = (t: string | null) => t === me.tenant;

  const servers: ServerView[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await apiGet<{ items: ServerView[]; nextCursor: string | null }>(
      gateway,
      '/api/v1/servers',
      {
        limit: '500',
        cursor,
      },
    );
    servers.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const [sources, toolsets, tenants, grants, policies, rateLimits, principalList] = await Promise.all([
    apiGet<{ items: SourceView[] }>(gateway, '/api/v1/template-sources'),
    apiGet<{ toolsets: ToolsetView[] }>(gateway, '/api/v1/toolsets'),
    apiGet<{ items: Array<{ tenantId: string; name: string }> }>(gateway, '/api/v1/tenants'),
    apiGet<{ items: GrantView[] }>(gateway, '/api/v1/grants'),
    apiGet<{ items: PolicyView[] }>(gateway, '/api/v1/policies'),
    apiGet<{ items: RateLimitView[] }>(gateway, '/api/v1/rate-limits'),
    apiGet<{ items: Array<{ id: string; name: string }> }>(gateway, '/api/v1/principals'),
  ]);

  const principals = new Map<string, string[]>();
  for (const p of principalList.items) principals.set(p.name, [...(principals.get(p.name) ?? []), p.id]);
  /** The principal's name when no other principal of the tenant has it. */
  const uniqueName = (id: string) => {
    const p = principalList.items.find((q) => q.id === id);
    return p && principals.get(p.name)?.length === 1 ? p.name : undefined;
  };

  const ids: CurrentConfiguration['ids'] = {
    policies: new Map(),
    rateLimits: new Map(),
    rateLimitMatches: new Map(),
    grants: new Map(),
  };
  const grantEntries: GrantEntry[] = [];
  for (const g of grants.items.filter((g) => mine(g.tenant))) {
    const asStored = GrantEntry.parse({ subject: g.subject, permission: g.permission, resource: g.resource });
    const name = g.subject.type === 'principal' && 'id' in g.subject ? uniqueName(g.subject.id) : undefined;
    const entry =
      name === undefined ? asStored : { ...asStored, subject: { type: 'principal' as const, name } };
    ids.grants.set(canonical(asStored), { id: g.grantId, entry });
    grantEntries.push(entry);
  }
  const policyEntries = policies.items
    .filter((p) => mine(p.tenant))
    .map((p) => {
      ids.policies.set(p.name, p.policyId);
      return PolicyEntry.parse({
        name: p.name,
        ...(p.description !== undefined && { description: p.description }),
        effect: p.effect,
        target: p.target,
        ...(p.condition !== undefined && { condition: p.condition }),
      });
    });
  // Limits on every tenant are an administrator's; others see them but could not apply them.
  const limitEntries = rateLimits.items
    .filter((r) => mine(r.tenant) || (r.tenant === null && admin))
    .map((r) => {
      ids.rateLimits.set(r.name, r.rateLimitId);
      const { principal, ...match } = r.match ?? {};
      ids.rateLimitMatches.set(r.name, r.match ?? {});
      const name = principal === undefined ? undefined : uniqueName(principal);
      return RateLimitEntry.parse({
        name: r.name,
        scope: r.scope,
        points: r.points,
        windowSeconds: r.windowSeconds,
        match: {
          ...match,
          ...(principal !== undefined && (name === undefined ? { principal } : { principalName: name })),
        },
        global: r.tenant === null,
      });
    });

  const document: ConfigDocument = {
    apiVersion: CONFIG_API_VERSION,
    kind: CONFIG_KIND,
    tenants: tenants.items
      .map((t) => TenantEntry.parse({ id: t.tenantId, name: t.name }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    servers: servers
      .filter((s) => mine(s.tenant))
      .map((s) =>
        ServerEntry.parse({
          name: s.name,
          ...(s.description !== null && { description: s.description }),
          transport: byKey(s.transport, ['env', 'headers', 'query']),
          tags: s.tags,
          enabled: s.enabled,
          settings: byKey(s.settings, ['tools']),
        }),
      )
      .sort(byName),
    // The shipped templates come with the program (SWITCHYARD_BUILTIN_TEMPLATES), not from commands.
    templateSources: sources.items
      // An administrator lists every tenant's sources: the document holds the caller's tenant's.
      .filter((s) => !s.builtIn && s.removedAt === null && mine(s.tenant))
      .map((s) =>
        TemplateSourceEntry.parse({
          name: s.name,
          kind: s.kind,
          location: s.location,
          ...(s.ref !== null && { ref: s.ref }),
          ...(s.intervalMs !== null && { intervalMs: s.intervalMs }),
        }),
      )
      .sort(byName),
    toolsets: toolsets.toolsets
      .filter((t) => mine(t.tenant))
      .map((t) =>
        ToolsetEntry.parse({
          name: t.name,
          ...(t.description !== null && { description: t.description }),
          tools: t.tools,
        }),
      )
      .sort(byName),
    grants: grantEntries.sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1)),
    policies: policyEntries.sort(byName),
    rateLimits: limitEntries.sort(byName),
  };
  return { document, tenant: me.tenant, admin, ids, principals };
}
