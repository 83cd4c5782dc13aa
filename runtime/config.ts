import { createPublicKey } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseSigningKey } from '../event-store/audit/signing.ts';
import type { PGliteCompiler } from '../event-store/postgres/pglite-thread.ts';
import type { OidcIssuerConfig } from '../gateway/auth/oidc.ts';
import { PREFIX_MODES, type PrefixMode } from '../gateway/mcp/names.ts';
import { parseApiKey } from '../kernel/api-keys.ts';
import {
  ROLES as ACCESS_ROLES,
  type Role as AccessRole,
  DEFAULT_TENANT,
  TENANT_RE,
} from '../kernel/principal.ts';
import { egressGuard } from '../runners/egress.ts';
import { BUILTIN_TEMPLATES_DIR } from '../templates/engine/source-policy.ts';
import { type TracingConfig, tracingConfigOf, tracingEnv } from './telemetry-config.ts';

export const ROLES = ['gateway', 'worker', 'relay', 'projector', 'runner'] as const;
export type Role = (typeof ROLES)[number];

const rolesSchema = z
  .string()
  .default('all')
  .transform((s, ctx): Role[] => {
    const parts = s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (parts.length === 1 && parts[0] === 'all') return [...ROLES];
    for (const p of parts) {
      if (!(ROLES as readonly string[]).includes(p)) {
        ctx.addIssue({ code: 'custom', message: `unknown role "${p}" (roles: all, ${ROLES.join(', ')})` });
        return z.NEVER;
      }
    }
    return parts as Role[];
  });

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(' or ')})`,
    );

/** Every environment variable Switchyard reads, parsed once by the composition root. */
export const configSchema = z.object({
  SWITCHYARD_HOST: z.string().default('127.0.0.1'),
  SWITCHYARD_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /**
   * `/health`, `/ready` and `/metrics` of a process without the gateway role, on SWITCHYARD_HOST;
   * unset: none. A gateway serves them on its main port and ignores this.
   */
  SWITCHYARD_MANAGEMENT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Embedded data directory, or `memory://` for a throw-away in-memory system (tests). */
  SWITCHYARD_DATA_DIR: z.string().default('.data'),
  /** Embedded: PGlite on a worker thread (on), or on the event loop (off). */
  SWITCHYARD_PGLITE_THREAD: z.enum(['on', 'off']).default('on'),
  /** Embedded: PostgreSQL's WebAssembly as baseline machine code only, or optimised where hot. */
  SWITCHYARD_PGLITE_COMPILER: z.enum(['baseline', 'optimizing']).default('baseline'),
  SWITCHYARD_ROLES: rolesSchema,
  SWITCHYARD_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  SWITCHYARD_BODY_LIMIT: z.coerce.number().int().positive().default(1_048_576),
  /** base64 of 32 bytes; required when several processes share one store (distributed mode). */
  SWITCHYARD_SECRET_KEY: z.string().optional(),
  /** Ed25519 key that signs the audit chain's checkpoints: PKCS#8 PEM, or base64 of its 32-byte seed. */
  SWITCHYARD_AUDIT_SIGNING_KEY: z
    .string()
    .refine(
      (k) => {
        try {
          parseSigningKey(k);
          return true;
        } catch {
          return false;
        }
      },
      // Never the value itself: it is a private key.
      'must be an Ed25519 private key: PKCS#8 PEM, or base64 of a 32-byte seed (`openssl genpkey -algorithm ed25519`)',
    )
    .optional(),
  /** The signing key's public half (SPKI PEM), for gateways that verify but do not seal. */
  SWITCHYARD_AUDIT_PUBLIC_KEY: z
    .string()
    .refine((k) => {
      try {
        return createPublicKey(k).asymmetricKeyType === 'ed25519';
      } catch {
        return false;
      }
    }, 'must be an Ed25519 public key, SPKI PEM (`openssl pkey -pubout`)')
    .optional(),
  /** A signed checkpoint at least every this many events… */
  SWITCHYARD_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** …and at least this often while events arrive. */
  SWITCHYARD_AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * Worker threads `audit verify` uses on PostgreSQL, three connections each (0: on the gateway's
   * own thread). Default: one per core, at most eight.
   */
  SWITCHYARD_AUDIT_VERIFY_THREADS: z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .default(() => Math.min(availableParallelism(), 8)),
  SWITCHYARD_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .default('sy'),
  SWITCHYARD_EVENTS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('SY_EVENTS'),
  SWITCHYARD_DLQ_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('SY_DLQ'),
  /** How long a write waits for its own projection when the client asks to read its own write. */
  SWITCHYARD_CONSISTENCY_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** Separator of `<server><sep><tool>` names on the aggregate MCP endpoint. */
  SWITCHYARD_TOOL_SEPARATOR: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,4}$/, 'must be 1-4 of letters, digits, "_", ".", ":" or "-"')
    .default('__'),
  /** How `/mcp` names tools, prompts and resources by default (`/mcp?prefix=…` chooses per client). */
  SWITCHYARD_PREFIX_MODE: z.enum(PREFIX_MODES).default('always'),
  /** Host names (comma-separated) that may address the MCP endpoints; `*` for any (behind a proxy). */
  SWITCHYARD_ALLOWED_HOSTS: z.string().optional(),
  /** Browser origins (comma-separated) that may call the MCP endpoints. */
  SWITCHYARD_ALLOWED_ORIGINS: z.string().default(''),
  /** Longest a client may take to send a whole request, headers and body (slow clients are cut off). */
  SWITCHYARD_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  SWITCHYARD_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(10_000),
  /** An idle keep-alive connection is closed after this long. */
  SWITCHYARD_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(65_000),
  /** Open MCP sessions on one gateway, and per principal; the least recently used is ended first. */
  SWITCHYARD_MCP_MAX_SESSIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  SWITCHYARD_MCP_MAX_SESSIONS_PER_PRINCIPAL: z.coerce.number().int().min(1).max(1_000_000).default(100),
  SWITCHYARD_MCP_SESSION_IDLE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(30 * 60_000),
  /** A tool call without an outcome this long after its start is marked abandoned. */
  SWITCHYARD_MAX_CALL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(60 * 60_000 + 60_000),
  /** Generated projects go under this directory, and analyze-code reads only below it. */
  SWITCHYARD_WORKSPACE: z.string().optional(),
  SWITCHYARD_DEPLOY_DIR: z.string().optional(),
  /** Where directory template sources may be (comma-separated); default: the workspace and the built-in templates. */
  SWITCHYARD_TEMPLATE_SOURCE_ROOTS: z.string().optional(),
  /** Allow git template sources on this machine (paths, file://): tests and single-user setups only. */
  SWITCHYARD_TEMPLATE_LOCAL_GIT: z.enum(['true', 'false']).default('false'),
  /** The shipped templates (source `builtin`); `off` to not register them. */
  SWITCHYARD_BUILTIN_TEMPLATES: z.string().optional(),
  /** `off` only for local development: every request is the `dev` administrator; loopback only. */
  SWITCHYARD_AUTH: z.enum(['on', 'off']).default('on'),
  /** An administrator's API key (sy_…) to make sure of at start, e.g. from a secret store; only its hash is kept. */
  SWITCHYARD_ADMIN_KEY: z
    .string()
    .refine((k) => parseApiKey(k) !== undefined, 'must be an API key: sy_<16 of a-z0-9>_<43 of base64url>')
    .optional(),
  /** Canonical public base URL of the gateway (OAuth resource, metadata, challenges). */
  SWITCHYARD_PUBLIC_URL: url(['http:', 'https:']).optional(),
  SWITCHYARD_OIDC_ISSUER: url(['http:', 'https:']).optional(),
  SWITCHYARD_OIDC_AUDIENCE: z.string().optional(),
  SWITCHYARD_OIDC_JWKS_URI: url(['http:', 'https:']).optional(),
  SWITCHYARD_OIDC_TOKEN_TYPES: z.string().optional(),
  SWITCHYARD_OIDC_TENANT: z.string().regex(TENANT_RE).optional(),
  SWITCHYARD_OIDC_TENANT_CLAIM: z.string().max(200).optional(),
  SWITCHYARD_OIDC_ROLES: z.string().optional(),
  SWITCHYARD_OIDC_DEFAULT_ROLES: z.string().optional(),
  SWITCHYARD_OIDC_SCOPE_CLAIM: z.string().max(200).optional(),
  /** Several issuers: a JSON array of {issuer, audience, jwksUri, tokenTypes, tenant, tenantClaim, roles, defaultRoles, scopeClaim}. */
  SWITCHYARD_OIDC_ISSUERS: z.string().optional(),
  /** The web console's OAuth client at the (first) OpenID issuer: a public client (authorization code + PKCE). */
  SWITCHYARD_CONSOLE_CLIENT_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII without spaces')
    .optional(),
  /** Scopes the console asks for when it signs in through the OpenID issuer. */
  SWITCHYARD_CONSOLE_SCOPES: z
    .string()
    .regex(/^[\x21-\x7e ]{1,500}$/)
    .default('openid mcp:read mcp:execute mcp:write mcp:manage'),
  /**
   * Where HTTP/SSE upstreams may be: loopback (default: yes when embedded, no in distributed mode),
   * and CIDRs, addresses or host names (`*.corp.example`) that are otherwise refused as private,
   * link-local or metadata addresses.
   */
  SWITCHYARD_EGRESS_ALLOW_LOOPBACK: z.enum(['true', 'false']).optional(),
  SWITCHYARD_EGRESS_ALLOW: z.string().default(''),
  /** Tool calls in flight on one gateway, per principal and per server; the largest result handed back. */
  SWITCHYARD_MAX_CALLS_PER_PRINCIPAL: z.coerce.number().int().min(1).max(100_000).default(64),
  SWITCHYARD_MAX_CALLS_PER_SERVER: z.coerce.number().int().min(1).max(100_000).default(256),
  SWITCHYARD_MAX_RESULT_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(1_073_741_824)
    .default(16 * 1_048_576),
  /** Runner variables servers may reference as `env:NAME` secrets: names and `PREFIX*`; none by default. */
  SWITCHYARD_SECRET_REFS: z.string().default(''),
  /**
   * The shared secret git hosts sign template-source webhooks with (GitHub's HMAC key, GitLab's
   * token); unset, every webhook call is refused. At least 16 characters: it is all that guards the route.
   */
  SWITCHYARD_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').max(1024).optional(),
  /** Failed authentications one client address may make per minute before it gets 429. */
  SWITCHYARD_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  /** Access rules older than this (the log unreadable) refuse every request: fail closed. */
  SWITCHYARD_ACCESS_MAX_STALENESS_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  /** Read models (and the Postgres event store unless EVENTSTORE_URL is set). Unset: embedded PGlite. */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** NATS with JetStream. Unset: the in-process bus. */
  NATS_URL: url(['nats:', 'tls:', 'ws:', 'wss:']).optional(),
  /** EventStoreDB / KurrentDB. Unset: the Postgres event store. */
  EVENTSTORE_URL: url(['esdb:', 'esdb+discover:', 'kurrentdb:', 'kurrentdb+discover:']).optional(),
  /** OpenTelemetry: traces by OTLP/HTTP when an endpoint is set (runtime/telemetry.ts). */
  ...tracingEnv,
});

export interface Config {
  host: string;
  /** Where traces go (OTLP, or nowhere), from the standard `OTEL_*` variables. */
  tracing: TracingConfig;
  port: number;
  /** Management port of a process without the gateway role (`/health`, `/ready`, `/metrics`). */
  managementPort: number | undefined;
  dataDir: string;
  /** Embedded mode runs PGlite on a worker thread, off the event loop that serves HTTP and MCP. */
  pgliteThread: boolean;
  pgliteCompiler: PGliteCompiler;
  roles: Role[];
  logLevel: string;
  bodyLimit: number;
  secretKey: string | undefined;
  /** The tamper-evident log (docs/audit.md): the checkpoint signing key and how often it signs. */
  audit: {
    signingKey: string | undefined;
    publicKey: string | undefined;
    checkpointEvery: number;
    checkpointIntervalMs: number;
    verifyThreads: number;
  };
  bus: { subjectPrefix: string; eventsStream: string; deadLetterStream: string };
  consistencyTimeoutMs: number;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  eventStoreUrl: string | undefined;
  /** Embedded when nothing external is configured: one process, PGlite, in-process bus. */
  mode: 'embedded' | 'distributed';
  toolSeparator: string;
  prefixMode: PrefixMode;
  allowedHosts: string[];
  allowedOrigins: string[];
  mcpSessionIdleMs: number;
  mcpMaxSessions: number;
  mcpMaxSessionsPerPrincipal: number;
  timeouts: { requestMs: number; headersMs: number; keepAliveMs: number };
  maxCallMs: number;
  egress: { allowLoopback: boolean; allow: string[] };
  calls: { perPrincipal: number; perServer: number; maxResultBytes: number };
  /** `SWITCHYARD_SECRET_REFS` as given (parsed by the runner host). */
  secretRefs: string;
  /** What git hosts sign template-source webhooks with; undefined: webhooks are refused. */
  webhookSecret: string | undefined;
  /** Absolute; generated projects and analysed code live below it. */
  workspaceRoot: string;
  /** Where deployments build their revisions (runners start them from there: shared in distributed mode). */
  deployRoot: string;
  /** Absolute directory of the shipped templates, or undefined when turned off. */
  builtInTemplates: string | undefined;
  /** Where template sources may be: directory roots (absolute), and whether local git is allowed. */
  templateSources: { directoryRoots: string[]; allowLocalGit: boolean };
  version: string;
  auth: AuthConfig;
}

export interface AuthConfig {
  mode: 'on' | 'off';
  adminKey: string | undefined;
  /** No trailing slash. */
  publicUrl: string;
  oidc: OidcIssuerConfig[];
  /** How the web console signs in through the OpenID issuer; undefined: with an API key only. */
  console: { clientId: string; scopes: string } | undefined;
  failuresPerMinute: number;
  maxStalenessMs: number;
}

export const VERSION = '0.1.0';

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);

export class ConfigError extends Error {}

/** Parses the environment; throws a ConfigError whose message names every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = configSchema.safeParse(cleaned);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = r.data;
  const mode = c.DATABASE_URL || c.NATS_URL || c.EVENTSTORE_URL ? 'distributed' : 'embedded';
  if (mode === 'distributed' && !c.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration:\n  DATABASE_URL: required when NATS_URL or EVENTSTORE_URL is set',
    );
  }
  if (c.SWITCHYARD_AUTH === 'off' && !isLoopback(c.SWITCHYARD_HOST)) {
    throw new ConfigError(
      `invalid configuration:\n  SWITCHYARD_AUTH: "off" is for local development only, and then Switchyard listens on loopback only; SWITCHYARD_HOST is ${c.SWITCHYARD_HOST}. Turn authentication on, or listen on 127.0.0.1`,
    );
  }
  if (c.NATS_URL && !c.SWITCHYARD_SECRET_KEY) {
    throw new ConfigError(
      'invalid configuration:\n  SWITCHYARD_SECRET_KEY: required with NATS_URL, so every process decrypts the same secrets (base64 of 32 bytes; `openssl rand -base64 32`)',
    );
  }
  const egress = {
    allowLoopback:
      c.SWITCHYARD_EGRESS_ALLOW_LOOPBACK === undefined
        ? mode === 'embedded'
        : c.SWITCHYARD_EGRESS_ALLOW_LOOPBACK === 'true',
    allow: list(c.SWITCHYARD_EGRESS_ALLOW),
  };
  try {
    egressGuard(egress);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  SWITCHYARD_EGRESS_ALLOW: ${(e as Error).message}`);
  }
  const workspaceRoot = resolve(
    c.SWITCHYARD_WORKSPACE ??
      (c.SWITCHYARD_DATA_DIR === 'memory://'
        ? join(tmpdir(), `switchyard-workspace-${process.pid}`)
        : 'workspace'),
  );
  const deployRoot = resolve(
    c.SWITCHYARD_DEPLOY_DIR ??
      (c.SWITCHYARD_DATA_DIR === 'memory://'
        ? join(tmpdir(), `switchyard-deployments-${process.pid}`)
        : join(c.SWITCHYARD_DATA_DIR, 'deployments')),
  );
  const builtInTemplates =
    c.SWITCHYARD_BUILTIN_TEMPLATES === 'off'
      ? undefined
      : resolve(c.SWITCHYARD_BUILTIN_TEMPLATES ?? BUILTIN_TEMPLATES_DIR);
  return {
    host: c.SWITCHYARD_HOST,
    port: c.SWITCHYARD_PORT,
    managementPort: c.SWITCHYARD_MANAGEMENT_PORT,
    dataDir: c.SWITCHYARD_DATA_DIR === 'memory://' ? 'memory://' : resolve(c.SWITCHYARD_DATA_DIR),
    pgliteThread: c.SWITCHYARD_PGLITE_THREAD === 'on',
    pgliteCompiler: c.SWITCHYARD_PGLITE_COMPILER,
    roles: c.SWITCHYARD_ROLES,
    logLevel: c.SWITCHYARD_LOG_LEVEL,
    tracing: tracingConfigOf(c),
    bodyLimit: c.SWITCHYARD_BODY_LIMIT,
    secretKey: c.SWITCHYARD_SECRET_KEY,
    audit: {
      signingKey: c.SWITCHYARD_AUDIT_SIGNING_KEY,
      publicKey: c.SWITCHYARD_AUDIT_PUBLIC_KEY,
      checkpointEvery: c.SWITCHYARD_AUDIT_CHECKPOINT_EVERY,
      checkpointIntervalMs: c.SWITCHYARD_AUDIT_CHECKPOINT_INTERVAL_MS,
      verifyThreads: c.SWITCHYARD_AUDIT_VERIFY_THREADS,
    },
    bus: {
      subjectPrefix: c.SWITCHYARD_SUBJECT_PREFIX,
      eventsStream: c.SWITCHYARD_EVENTS_STREAM,
      deadLetterStream: c.SWITCHYARD_DLQ_STREAM,
    },
    consistencyTimeoutMs: c.SWITCHYARD_CONSISTENCY_TIMEOUT_MS,
    databaseUrl: c.DATABASE_URL,
    natsUrl: c.NATS_URL,
    eventStoreUrl: c.EVENTSTORE_URL,
    mode,
    toolSeparator: c.SWITCHYARD_TOOL_SEPARATOR,
    prefixMode: c.SWITCHYARD_PREFIX_MODE,
    allowedHosts: [
      'localhost',
      '127.0.0.1',
      '[::1]',
      ...(c.SWITCHYARD_HOST !== '0.0.0.0' && c.SWITCHYARD_HOST !== '::'
        ? [c.SWITCHYARD_HOST.toLowerCase()]
        : []),
      ...list(c.SWITCHYARD_ALLOWED_HOSTS),
    ],
    allowedOrigins: list(c.SWITCHYARD_ALLOWED_ORIGINS),
    mcpSessionIdleMs: c.SWITCHYARD_MCP_SESSION_IDLE_MS,
    mcpMaxSessions: c.SWITCHYARD_MCP_MAX_SESSIONS,
    mcpMaxSessionsPerPrincipal: c.SWITCHYARD_MCP_MAX_SESSIONS_PER_PRINCIPAL,
    timeouts: {
      requestMs: c.SWITCHYARD_REQUEST_TIMEOUT_MS,
      // Node requires the headers timeout not to exceed the request timeout.
      headersMs: Math.min(c.SWITCHYARD_HEADERS_TIMEOUT_MS, c.SWITCHYARD_REQUEST_TIMEOUT_MS),
      keepAliveMs: c.SWITCHYARD_KEEPALIVE_TIMEOUT_MS,
    },
    maxCallMs: c.SWITCHYARD_MAX_CALL_MS,
    secretRefs: c.SWITCHYARD_SECRET_REFS,
    webhookSecret: c.SWITCHYARD_WEBHOOK_SECRET,
    egress,
    calls: {
      perPrincipal: c.SWITCHYARD_MAX_CALLS_PER_PRINCIPAL,
      perServer: c.SWITCHYARD_MAX_CALLS_PER_SERVER,
      maxResultBytes: c.SWITCHYARD_MAX_RESULT_BYTES,
    },
    templateSources: {
      directoryRoots: c.SWITCHYARD_TEMPLATE_SOURCE_ROOTS
        ? c.SWITCHYARD_TEMPLATE_SOURCE_ROOTS.split(',')
            .map((p) => resolve(p.trim()))
            .filter(Boolean)
        : [workspaceRoot, builtInTemplates ?? BUILTIN_TEMPLATES_DIR],
      allowLocalGit: c.SWITCHYARD_TEMPLATE_LOCAL_GIT === 'true',
    },
    workspaceRoot,
    deployRoot,
    builtInTemplates,
    version: VERSION,
    auth: authConfig(c),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

type Parsed = z.infer<typeof configSchema>;

function authConfig(c: Parsed): AuthConfig {
  const host = c.SWITCHYARD_HOST.includes(':') ? `[${c.SWITCHYARD_HOST}]` : c.SWITCHYARD_HOST;
  const publicUrl = (c.SWITCHYARD_PUBLIC_URL ?? `http://${host}:${c.SWITCHYARD_PORT}`).replace(/\/+$/, '');
  return {
    mode: c.SWITCHYARD_AUTH,
    adminKey: c.SWITCHYARD_ADMIN_KEY,
    publicUrl,
    oidc: oidcIssuers(c, publicUrl),
    console: c.SWITCHYARD_CONSOLE_CLIENT_ID
      ? { clientId: c.SWITCHYARD_CONSOLE_CLIENT_ID, scopes: c.SWITCHYARD_CONSOLE_SCOPES }
      : undefined,
    failuresPerMinute: c.SWITCHYARD_AUTH_FAILURES_PER_MINUTE,
    maxStalenessMs: c.SWITCHYARD_ACCESS_MAX_STALENESS_MS,
  };
}

const roleRuleSchema = z
  .object({ claim: z.string().min(1).max(200), value: z.string().max(500), role: z.enum(ACCESS_ROLES) })
  .strict();
const csvOrList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : list(v)));
const issuerSchema = z
  .object({
    issuer: url(['http:', 'https:']),
    audience: csvOrList.optional(),
    jwksUri: url(['http:', 'https:']).optional(),
    tokenTypes: csvOrList.optional(),
    tenant: z.string().regex(TENANT_RE).optional(),
    tenantClaim: z.string().max(200).optional(),
    roles: z.array(roleRuleSchema).max(100).optional(),
    defaultRoles: csvOrList.pipe(z.array(z.enum(ACCESS_ROLES))).optional(),
    scopeClaim: z.string().max(200).optional(),
  })
  .strict();

/** The OpenID issuers: the single-issuer variables, and/or the JSON list form. */
function oidcIssuers(c: Parsed, publicUrl: string): OidcIssuerConfig[] {
  const raw: unknown[] = [];
  if (c.SWITCHYARD_OIDC_ISSUER) {
    raw.push({
      issuer: c.SWITCHYARD_OIDC_ISSUER,
      audience: c.SWITCHYARD_OIDC_AUDIENCE,
      jwksUri: c.SWITCHYARD_OIDC_JWKS_URI,
      tokenTypes: c.SWITCHYARD_OIDC_TOKEN_TYPES,
      tenant: c.SWITCHYARD_OIDC_TENANT,
      tenantClaim: c.SWITCHYARD_OIDC_TENANT_CLAIM,
      roles:
        c.SWITCHYARD_OIDC_ROLES === undefined
          ? undefined
          : json('SWITCHYARD_OIDC_ROLES', c.SWITCHYARD_OIDC_ROLES),
      defaultRoles: c.SWITCHYARD_OIDC_DEFAULT_ROLES,
      scopeClaim: c.SWITCHYARD_OIDC_SCOPE_CLAIM,
    });
  }
  if (c.SWITCHYARD_OIDC_ISSUERS) {
    const listed = json('SWITCHYARD_OIDC_ISSUERS', c.SWITCHYARD_OIDC_ISSUERS);
    if (!Array.isArray(listed))
      throw new ConfigError('invalid configuration:\n  SWITCHYARD_OIDC_ISSUERS: must be a JSON array');
    raw.push(...listed);
  }
  return raw.map((entry, i) => {
    const r = issuerSchema.safeParse(
      Object.fromEntries(Object.entries(entry as object).filter(([, v]) => v !== undefined)),
    );
    if (!r.success) {
      const lines = r.error.issues.map(
        (issue) => `  oidc issuer ${i + 1}: ${issue.path.join('.')}: ${issue.message}`,
      );
      throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
    }
    const v = r.data;
    return {
      issuer: v.issuer,
      // By default a token must be for this gateway: its root, /mcp, /platform/mcp or a server's endpoint.
      audience: v.audience ?? [
        publicUrl,
        `${publicUrl}/mcp`,
        `${publicUrl}/platform/mcp`,
        `${publicUrl}/servers/*`,
      ],
      jwksUri: v.jwksUri,
      tokenTypes: (v.tokenTypes ?? ['at+jwt', 'application/at+jwt']).map((t) => t.toLowerCase()),
      tenant: v.tenant ?? DEFAULT_TENANT,
      tenantClaim: v.tenantClaim,
      roles: v.roles ?? [],
      defaultRoles: (v.defaultRoles ?? ['reader']) as AccessRole[],
      scopeClaim: v.scopeClaim,
    };
  });
}

function json(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new ConfigError(`invalid configuration:\n  ${name}: not JSON (${(e as Error).message})`);
  }
}
