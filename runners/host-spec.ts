import type { ServerConfig } from '../domains/servers/decider.ts';
import { AppError } from '../kernel/errors.ts';
import { revealSecrets, type SecretBox } from '../kernel/secrets.ts';
import type { UpstreamSpec } from './upstream.port.ts';

/** Settings a server leaves unset. */
export const SPEC_DEFAULTS = {
  replicas: 1,
  loadBalancing: 'round-robin',
  sseClientSessions: 32,
  /** A process each: fewer than over SSE (see CallerSessions). */
  stdioClientSessions: 16,
  connectTimeoutMs: 10_000,
  callTimeoutMs: 60_000,
} as const;

/**
 * Which of the runner's environment variables a server may reference (`{ secretRef: 'env:NAME' }`),
 * as an operator configured them (SWITCHYARD_SECRET_REFS): names, and prefixes ending in `*`.
 */
export interface SecretRefPolicy {
  names: readonly string[];
  prefixes: readonly string[];
}

/** Switchyard's own settings and connection strings: never handed to an upstream, whatever is allowed. */
const NEVER = /^(SWITCHYARD_|DATABASE_URL$|NATS_URL$|EVENTSTORE_URL$|PG[A-Z]*$|NODE_OPTIONS$)/;

/** Parses `A,B,MCP_*` into a policy. */
export function secretRefPolicy(list: string): SecretRefPolicy {
  const parts = list
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return {
    names: parts.filter((p) => !p.endsWith('*')),
    prefixes: parts.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1)),
  };
}

/**
 * Resolves `env:NAME` references from the given environment (the runner's own) — only the names
 * the policy allows: a registration cannot send any variable of the runner to an endpoint of its
 * choosing. Other schemes (`file:`, `vault:`) are not supported yet and resolve to nothing, which
 * revealSecrets reports.
 */
export function envSecretRefs(
  env: Readonly<Record<string, string | undefined>>,
  policy: SecretRefPolicy = { names: [], prefixes: [] },
): (ref: string) => string | undefined {
  return (ref) => {
    if (!ref.startsWith('env:')) return undefined;
    const name = ref.slice(4);
    const allowed =
      !NEVER.test(name) && (policy.names.includes(name) || policy.prefixes.some((p) => name.startsWith(p)));
    if (!allowed) {
      throw new AppError(
        'validation',
        'SECRETS.REF_NOT_ALLOWED',
        `secret reference ${ref} is not one an operator allowed (SWITCHYARD_SECRET_REFS)`,
        { ref },
      );
    }
    return env[name];
  };
}

/**
 * The spec a runner needs for a registered server: its transport with every secret opened (only
 * here, in the runner), and its resilience settings with defaults. Throws an AppError when a
 * secret cannot be opened (unknown key, unset reference).
 */
export function upstreamSpecFor(
  config: ServerConfig,
  revision: bigint,
  secrets: SecretBox,
  resolveRef: (ref: string) => string | undefined,
): UpstreamSpec {
  const t = config.transport;
  const query = t.type === 'stdio' ? undefined : t.query && revealSecrets(t.query, secrets, resolveRef);
  const transport: UpstreamSpec['transport'] =
    t.type === 'stdio'
      ? {
          type: 'stdio',
          command: t.command,
          args: [...t.args],
          env: revealSecrets(t.env, secrets, resolveRef),
          ...(t.cwd !== undefined ? { cwd: t.cwd } : {}),
        }
      : {
          type: t.type,
          url: withQuery(t.url, query),
          headers: revealSecrets(t.headers, secrets, resolveRef),
        };
  const s = config.settings;
  return {
    serverId: config.serverId,
    name: config.name,
    revision,
    transport,
    replicas: t.type === 'stdio' ? (s.replicas ?? SPEC_DEFAULTS.replicas) : 1,
    extraUrls: t.type === 'stdio' ? [] : (s.extraUrls ?? []).map((u) => withQuery(u, query)),
    loadBalancing: s.loadBalancing ?? SPEC_DEFAULTS.loadBalancing,
    weights: [...(s.weights ?? [])],
    clientSessions: s.clientSessions ?? defaultClientSessions(t.type),
    connectTimeoutMs: s.connectTimeoutMs ?? SPEC_DEFAULTS.connectTimeoutMs,
    callTimeoutMs: s.callTimeoutMs ?? SPEC_DEFAULTS.callTimeoutMs,
  };
}

/** Upstream sessions of their own for callers, unless configured: none over Streamable HTTP (not needed). */
export function defaultClientSessions(transport: UpstreamSpec['transport']['type']): number {
  if (transport === 'sse') return SPEC_DEFAULTS.sseClientSessions;
  return transport === 'stdio' ? SPEC_DEFAULTS.stdioClientSessions : 0;
}

/**
 * `url` with the server's query parameters set (replacing any of the same name): how upstreams that
 * take a key in the URL get it, while the log and the read models hold it sealed. Runners log and
 * report URLs without their query (see redactUrl).
 */
function withQuery(url: string, query: Record<string, string> | undefined): string {
  if (!query || Object.keys(query).length === 0) return url;
  const u = new URL(url);
  for (const [name, value] of Object.entries(query)) u.searchParams.set(name, value);
  return u.toString();
}
