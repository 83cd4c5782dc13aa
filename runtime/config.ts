import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

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
  /** Embedded data directory, or `memory://` for a throw-away in-memory system (tests). */
  SWITCHYARD_DATA_DIR: z.string().default('.data'),
  SWITCHYARD_ROLES: rolesSchema,
  SWITCHYARD_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  SWITCHYARD_BODY_LIMIT: z.coerce.number().int().positive().default(1_048_576),
  /** base64 of 32 bytes; required when several processes share one store (distributed mode). */
  SWITCHYARD_SECRET_KEY: z.string().optional(),
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
  /** Host names (comma-separated) that may address the MCP endpoints; `*` for any (behind a proxy). */
  SWITCHYARD_ALLOWED_HOSTS: z.string().optional(),
  /** Browser origins (comma-separated) that may call the MCP endpoints. */
  SWITCHYARD_ALLOWED_ORIGINS: z.string().default(''),
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
  /** The shipped templates (source `builtin`); `off` to not register them. */
  SWITCHYARD_BUILTIN_TEMPLATES: z.string().optional(),
  /** Read models (and the Postgres event store unless EVENTSTORE_URL is set). Unset: embedded PGlite. */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** NATS with JetStream. Unset: the in-process bus. */
  NATS_URL: url(['nats:', 'tls:', 'ws:', 'wss:']).optional(),
  /** EventStoreDB / KurrentDB. Unset: the Postgres event store. */
  EVENTSTORE_URL: url(['esdb:', 'esdb+discover:', 'kurrentdb:', 'kurrentdb+discover:']).optional(),
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  roles: Role[];
  logLevel: string;
  bodyLimit: number;
  secretKey: string | undefined;
  bus: { subjectPrefix: string; eventsStream: string; deadLetterStream: string };
  consistencyTimeoutMs: number;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  eventStoreUrl: string | undefined;
  /** Embedded when nothing external is configured: one process, PGlite, in-process bus. */
  mode: 'embedded' | 'distributed';
  toolSeparator: string;
  allowedHosts: string[];
  allowedOrigins: string[];
  mcpSessionIdleMs: number;
  maxCallMs: number;
  /** Absolute; generated projects and analysed code live below it. */
  workspaceRoot: string;
  /** Absolute directory of the shipped templates, or undefined when turned off. */
  builtInTemplates: string | undefined;
  version: string;
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
  if (c.NATS_URL && !c.SWITCHYARD_SECRET_KEY) {
    throw new ConfigError(
      'invalid configuration:\n  SWITCHYARD_SECRET_KEY: required with NATS_URL, so every process decrypts the same secrets (base64 of 32 bytes; `openssl rand -base64 32`)',
    );
  }
  return {
    host: c.SWITCHYARD_HOST,
    port: c.SWITCHYARD_PORT,
    dataDir: c.SWITCHYARD_DATA_DIR === 'memory://' ? 'memory://' : resolve(c.SWITCHYARD_DATA_DIR),
    roles: c.SWITCHYARD_ROLES,
    logLevel: c.SWITCHYARD_LOG_LEVEL,
    bodyLimit: c.SWITCHYARD_BODY_LIMIT,
    secretKey: c.SWITCHYARD_SECRET_KEY,
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
    maxCallMs: c.SWITCHYARD_MAX_CALL_MS,
    workspaceRoot: resolve(
      c.SWITCHYARD_WORKSPACE ??
        (c.SWITCHYARD_DATA_DIR === 'memory://'
          ? join(tmpdir(), `switchyard-workspace-${process.pid}`)
          : 'workspace'),
    ),
    builtInTemplates:
      c.SWITCHYARD_BUILTIN_TEMPLATES === 'off'
        ? undefined
        : resolve(
            c.SWITCHYARD_BUILTIN_TEMPLATES ?? fileURLToPath(new URL('../templates/builtin', import.meta.url)),
          ),
    version: VERSION,
  };
}
