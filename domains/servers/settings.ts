import type { ServerSettings, TransportType } from './events.ts';

/** Most instances one server may run: replicas of a stdio command, or URLs of an HTTP/SSE server. */
export const MAX_INSTANCES = 16;

/** A settings problem, with the path of the field at fault (relative to the settings object). */
export interface SettingsIssue {
  path: string;
  message: string;
}

/** What the instance rules need to know of a transport. */
export interface TransportShape {
  type: TransportType;
  url?: string | undefined;
}

/**
 * How many instances a server runs: a stdio command started `replicas` times (default 1); an
 * HTTP/SSE server reached at its `url` plus each of `extraUrls`. `weights` index instances in this
 * order (the transport's own url first).
 */
export function instanceCount(transport: TransportShape, settings: ServerSettings): number {
  return transport.type === 'stdio' ? (settings.replicas ?? 1) : 1 + (settings.extraUrls?.length ?? 0);
}

/**
 * The rules tying resilience settings to a transport. Pure, so the input schemas (register, and an
 * update carrying both), and the decider (an update of either half against the stored other half)
 * apply the same rules. Empty when the settings fit the transport.
 */
export function settingsIssues(transport: TransportShape, settings: ServerSettings): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  const http = transport.type !== 'stdio';
  if (http && settings.replicas !== undefined) {
    issues.push({
      path: 'replicas',
      message: `replicas applies to stdio servers only; a ${transport.type} server lists more instances in extraUrls`,
    });
  }
  if (!http && settings.extraUrls !== undefined && settings.extraUrls.length > 0) {
    issues.push({
      path: 'extraUrls',
      message:
        'extraUrls applies to streamable-http and sse servers only; a stdio server scales with replicas',
    });
  }
  if (http && settings.extraUrls !== undefined) {
    const all = [transport.url, ...settings.extraUrls].filter((u): u is string => u !== undefined);
    if (new Set(all.map(normalizeUrl)).size !== all.length) {
      issues.push({
        path: 'extraUrls',
        message: 'instance URLs must be distinct (and differ from transport.url)',
      });
    }
    if (1 + settings.extraUrls.length > MAX_INSTANCES) {
      issues.push({ path: 'extraUrls', message: `at most ${MAX_INSTANCES} instances in all` });
    }
  }
  if (transport.type === 'streamable-http' && settings.clientSessions !== undefined) {
    issues.push({
      path: 'clientSessions',
      message:
        'clientSessions applies to stdio and sse servers only: over Streamable HTTP an upstream names the request of each message',
    });
  }
  issues.push(...toolOverrideIssues(settings));
  const count = instanceCount(transport, settings);
  if (settings.weights !== undefined) {
    if (settings.loadBalancing !== 'weighted') {
      issues.push({ path: 'weights', message: 'weights apply only with loadBalancing "weighted"' });
    } else if (settings.weights.length !== count) {
      issues.push({
        path: 'weights',
        message: `needs ${count} weight${count === 1 ? '' : 's'}, one per instance, got ${settings.weights.length}`,
      });
    }
    if (settings.weights.length > 0 && settings.weights.every((w) => w === 0)) {
      issues.push({ path: 'weights', message: 'at least one weight must be above 0' });
    }
  } else if (settings.loadBalancing === 'weighted') {
    issues.push({
      path: 'weights',
      message: `loadBalancing "weighted" needs weights, one per instance (${count})`,
    });
  }
  return issues;
}

function normalizeUrl(u: string): string {
  return URL.parse(u)?.href ?? u;
}

/** Two tools renamed to one name would make it mean two things. */
function toolOverrideIssues(settings: ServerSettings): SettingsIssue[] {
  const byName = new Map<string, string>();
  const issues: SettingsIssue[] = [];
  for (const [tool, o] of Object.entries(settings.tools ?? {})) {
    if (o.name === undefined || o.hidden) continue;
    const other = byName.get(o.name);
    if (other !== undefined) {
      issues.push({
        path: `tools.${tool}.name`,
        message: `${JSON.stringify(tool)} and ${JSON.stringify(other)} cannot both be served as ${JSON.stringify(o.name)}`,
      });
    }
    byName.set(o.name, tool);
  }
  return issues;
}

/** What a server's tools look like served, and which upstream tool each renamed one is. */
export interface ServedTools<T> {
  tools: T[];
  /** Served name → the upstream's own name, for the renamed ones. */
  origins: Record<string, string>;
}

/**
 * Applies a server's tool overrides to the tools it lists: hidden ones are left out, renamed ones
 * served under their new name — unless that name is taken by another tool served as it is (the
 * rename then waits; the tool keeps its own name) — and re-described ones with their description.
 */
export function applyToolOverrides<T extends { name: string; description?: string | undefined }>(
  listed: readonly T[],
  overrides: ServerSettings['tools'],
): ServedTools<T> {
  if (!overrides || Object.keys(overrides).length === 0) return { tools: [...listed], origins: {} };
  const visible = listed.filter((t) => overrides[t.name]?.hidden !== true);
  const keep = new Set(visible.filter((t) => overrides[t.name]?.name === undefined).map((t) => t.name));
  const origins: Record<string, string> = {};
  const tools = visible.map((t) => {
    const o = overrides[t.name];
    if (!o) return t;
    let name = t.name;
    if (o.name !== undefined && o.name !== t.name && !keep.has(o.name) && origins[o.name] === undefined) {
      name = o.name;
      origins[name] = t.name;
    }
    return { ...t, name, ...(o.description !== undefined && { description: o.description }) };
  });
  return { tools, origins };
}

/**
 * The upstream's own name of a tool as served (`origins` from applyToolOverrides): what
 * authorization, rate limits, the audit log and the upstream itself know it by.
 */
export function upstreamToolName(
  origins: Readonly<Record<string, string>> | undefined,
  served: string,
): string {
  return origins?.[served] ?? served;
}
