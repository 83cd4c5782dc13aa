import type { ServerConfig } from '../domains/servers/decider.ts';
import { revealSecrets, type SecretBox } from '../kernel/secrets.ts';
import type { UpstreamSpec } from './upstream.port.ts';

/** Settings a server leaves unset. */
export const SPEC_DEFAULTS = {
  replicas: 1,
  loadBalancing: 'round-robin',
  connectTimeoutMs: 10_000,
  callTimeoutMs: 60_000,
} as const;

/**
 * Resolves `env:NAME` references from the given environment (the runner's own). Other schemes
 * (`file:`, `vault:`) are not supported yet and resolve to nothing, which revealSecrets reports.
 */
export function envSecretRefs(
  env: Readonly<Record<string, string | undefined>>,
): (ref: string) => string | undefined {
  return (ref) => (ref.startsWith('env:') ? env[ref.slice(4)] : undefined);
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
  const transport: UpstreamSpec['transport'] =
    t.type === 'stdio'
      ? {
          type: 'stdio',
          command: t.command,
          args: [...t.args],
          env: revealSecrets(t.env, secrets, resolveRef),
          ...(t.cwd !== undefined ? { cwd: t.cwd } : {}),
        }
      : { type: t.type, url: t.url, headers: revealSecrets(t.headers, secrets, resolveRef) };
  const s = config.settings;
  return {
    serverId: config.serverId,
    name: config.name,
    revision,
    transport,
    replicas: t.type === 'stdio' ? (s.replicas ?? SPEC_DEFAULTS.replicas) : 1,
    extraUrls: t.type === 'stdio' ? [] : [...(s.extraUrls ?? [])],
    loadBalancing: s.loadBalancing ?? SPEC_DEFAULTS.loadBalancing,
    weights: [...(s.weights ?? [])],
    connectTimeoutMs: s.connectTimeoutMs ?? SPEC_DEFAULTS.connectTimeoutMs,
    callTimeoutMs: s.callTimeoutMs ?? SPEC_DEFAULTS.callTimeoutMs,
  };
}
