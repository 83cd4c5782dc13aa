import type { Config } from './config.ts';

export type ConfigValue = string | number | boolean | null;

const REDACTED = '[redacted]';

/** A URL without its user, password, query and fragment (a connection string may carry any of them). */
function bareUrl(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    const u = new URL(value);
    const auth = u.username || u.password ? `${REDACTED}@` : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}`;
  } catch {
    return REDACTED; // not a URL we can take apart: show nothing of it
  }
}

const secret = (value: string | undefined): string | null => (value === undefined ? null : REDACTED);

/**
 * The configuration an operator may look at (the console's System view, GET /api/v1/system): an
 * allowlist — a setting added later is not shown until it is added here, so a new secret cannot
 * leak by default. Secrets say only that they are set; URLs lose their credentials and query.
 */
export function configReport(config: Config): Record<string, ConfigValue> {
  return {
    mode: config.mode,
    roles: config.roles.join(', '),
    host: config.host,
    port: config.port,
    publicUrl: config.auth.publicUrl,
    logLevel: config.logLevel,
    databaseUrl: bareUrl(config.databaseUrl),
    natsUrl: bareUrl(config.natsUrl),
    eventStoreUrl: bareUrl(config.eventStoreUrl),
    dataDir: config.mode === 'embedded' ? config.dataDir : null,
    pgliteThread: config.mode === 'embedded' ? config.pgliteThread : null,
    'bus.subjectPrefix': config.bus.subjectPrefix,
    'bus.eventsStream': config.bus.eventsStream,
    'bus.deadLetterStream': config.bus.deadLetterStream,
    'auth.mode': config.auth.mode,
    'auth.adminKey': secret(config.auth.adminKey),
    'auth.oidcIssuers': config.auth.oidc.map((o) => o.issuer).join(', ') || null,
    'auth.consoleClientId': config.auth.console?.clientId ?? null,
    allowedHosts: config.allowedHosts.join(', '),
    allowedOrigins: config.allowedOrigins.join(', ') || null,
    prefixMode: config.prefixMode,
    toolSeparator: config.toolSeparator,
    bodyLimit: config.bodyLimit,
    maxCallMs: config.maxCallMs,
    'calls.perPrincipal': config.calls.perPrincipal,
    'calls.perServer': config.calls.perServer,
    'calls.maxResultBytes': config.calls.maxResultBytes,
    mcpSessionIdleMs: config.mcpSessionIdleMs,
    mcpMaxSessions: config.mcpMaxSessions,
    mcpMaxSessionsPerPrincipal: config.mcpMaxSessionsPerPrincipal,
    'egress.allowLoopback': config.egress.allowLoopback,
    'egress.allow': config.egress.allow.join(', ') || null,
    secretKey: secret(config.secretKey),
    secretRefs: config.secretRefs ? REDACTED : null,
    webhookSecret: secret(config.webhookSecret),
    'audit.signingKey': secret(config.audit.signingKey),
    'audit.checkpointEvery': config.audit.checkpointEvery,
    workspaceRoot: config.workspaceRoot,
    builtInTemplates: config.builtInTemplates ?? null,
    version: config.version,
  };
}
