import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { recordedOwner, recordedTenant } from '../../kernel/ownership.ts';
import { storedSecretSchema } from '../../kernel/secrets.ts';

/**
 * A server name becomes a tool prefix (`<name>__tool`) and a URL segment (`/servers/<name>/mcp`),
 * so it is lower-case, URL-safe, and splits back out of `<name>__<tool>` unambiguously.
 */
export const SERVER_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const serverNameSchema = z
  .string()
  .regex(
    SERVER_NAME_RE,
    'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit (it becomes a tool prefix and a URL segment)',
  )
  .refine(
    (n) => !n.includes('__') && !n.endsWith('_'),
    'must not contain "__" nor end with "_" (`<name>__<tool>` must split back unambiguously)',
  );

export const TAG_RE = /^[a-z0-9][a-z0-9_.:-]{0,62}$/;
export const tagSchema = z
  .string()
  .regex(
    TAG_RE,
    'must be 1-63 characters of a-z, 0-9, "_", ".", ":" or "-", starting with a letter or digit',
  );

export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// RFC 9110 token characters.
export const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** A URL query parameter name Switchyard adds itself: unreserved characters and brackets only. */
export const QUERY_NAME_RE = /^[A-Za-z0-9._~[\]-]{1,128}$/;

export const LOAD_BALANCING = ['round-robin', 'least-connections', 'weighted'] as const;
export type LoadBalancing = (typeof LOAD_BALANCING)[number];

/** A tool name as MCP allows it (1-128 letters, digits, `_`, `-`, `.`): what a tool may be renamed to. */
export const TOOL_NAME_RE = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * How the gateway serves one of a server's tools: hidden (neither listed nor callable), under
 * another name, or with another description. The catalog keeps the upstream's own definition;
 * authorization, rate limits and the audit log keep using the upstream's name, so a rename never
 * slips past a grant or policy written for the tool.
 */
export const toolOverrideSchema = z
  .object({
    hidden: z.boolean().optional(),
    name: z.string().regex(TOOL_NAME_RE, 'must be 1-128 letters, digits, "_", "-" or "."').optional(),
    description: z.string().max(4_000).optional(),
  })
  .strict();
export type ToolOverride = z.infer<typeof toolOverrideSchema>;

/**
 * Timeouts, health interval and instances of a server. Every field is optional, so events written
 * before a field existed stay valid without an upcaster. How the instance fields fit the transport
 * (replicas for stdio, extraUrls for HTTP/SSE, one weight per instance) is checked by
 * settingsIssues (settings.ts) wherever settings meet a transport.
 */
export const serverSettingsSchema = z
  .object({
    connectTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    callTimeoutMs: z.number().int().min(100).max(3_600_000).optional(),
    healthIntervalMs: z.number().int().min(1_000).max(86_400_000).optional(),
    /** stdio: the same command started this many times (1-16). */
    replicas: z.number().int().min(1).max(16).optional(),
    /** streamable-http / sse: more instance URLs besides transport.url. */
    extraUrls: z.array(z.url()).max(15).optional(),
    loadBalancing: z
      .enum(LOAD_BALANCING, { error: 'must be one of "round-robin", "least-connections", "weighted"' })
      .optional(),
    /** With loadBalancing "weighted": one weight per instance, transport's own first. */
    weights: z.array(z.number().int().min(0).max(1000)).min(1).max(16).optional(),
    /**
     * stdio / sse: upstream sessions of their own for clients whose calls would otherwise share one
     * with another client's, at most this many per instance (0-64; default 32 for sse, 16 for stdio,
     * where each is a process of its own; 0: one session shared by every client). What the upstream
     * sends during a call on such a session (logs, sampling, elicitation, roots) can only be its
     * client's. Streamable HTTP needs none: its messages name their request.
     */
    clientSessions: z.number().int().min(0).max(64).optional(),
    /**
     * Pin tool definitions (default false): a tool whose definition changed since it was approved
     * (the first discovery approves what it finds) is withheld from clients until an operator
     * approves the new definition. See domains/catalog (ToolDefinitionChanged, ToolDefinitionApproved).
     */
    pinTools: z.boolean().optional(),
    /** Per tool, by the upstream's own name: hide, rename or re-describe it (toolOverrideSchema). */
    tools: z
      .record(z.string().min(1).max(256), toolOverrideSchema)
      .refine((r) => Object.keys(r).length <= 1_000, 'at most 1000 tool overrides')
      .optional(),
  })
  .strict();
export type ServerSettings = z.infer<typeof serverSettingsSchema>;

const storedEnv = z.record(z.string().regex(ENV_KEY_RE), storedSecretSchema);
const storedHeaders = z.record(z.string().regex(HEADER_NAME_RE), storedSecretSchema);
const storedQuery = z.record(z.string().regex(QUERY_NAME_RE), storedSecretSchema);

/**
 * A transport as events hold it: every env, header and query value sealed or a reference. `query`
 * (parameters added to the URL when connecting, for upstreams that take a key there) is absent
 * when there are none.
 */
export const storedTransportSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('stdio'),
      command: z.string().min(1),
      args: z.array(z.string()),
      env: storedEnv,
      cwd: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('streamable-http'),
      url: z.url(),
      headers: storedHeaders,
      query: storedQuery.optional(),
    })
    .strict(),
  z
    .object({ type: z.literal('sse'), url: z.url(), headers: storedHeaders, query: storedQuery.optional() })
    .strict(),
]);
export type StoredTransport = z.infer<typeof storedTransportSchema>;
export type TransportType = StoredTransport['type'];

const isoDate = z.iso.datetime({ offset: true });

export const serverRegisteredSchema = z.object({
  serverId: z.uuid(),
  name: serverNameSchema,
  description: z.string().optional(),
  transport: storedTransportSchema,
  tags: z.array(tagSchema),
  enabled: z.boolean(),
  settings: serverSettingsSchema,
  /** The tenant the server belongs to (the registering principal's); 'default' before tenancy. */
  tenant: recordedTenant,
  /** The principal that registered it; 'unknown' before tenancy. */
  owner: recordedOwner,
  registeredAt: isoDate,
});

/** Only the fields that changed; `description: null` clears it. */
export const serverUpdatedSchema = z.object({
  serverId: z.uuid(),
  name: serverNameSchema.optional(),
  description: z.string().nullable().optional(),
  transport: storedTransportSchema.optional(),
  tags: z.array(tagSchema).optional(),
  settings: serverSettingsSchema.optional(),
  updatedAt: isoDate,
});

export const serverEnabledSchema = z.object({ serverId: z.uuid(), enabledAt: isoDate });

export const serverDisabledSchema = z.object({
  serverId: z.uuid(),
  reason: z.string().optional(),
  disabledAt: isoDate,
});

/** Someone asked for the server's catalog to be discovered again (the discovery saga acts on it). */
export const serverRefreshRequestedSchema = z.object({ serverId: z.uuid(), requestedAt: isoDate });

export const serverRemovedSchema = z.object({
  serverId: z.uuid(),
  /** The name the server held, so a reader knows which name became free. */
  name: serverNameSchema,
  removedAt: isoDate,
});

/**
 * Name reservations live in their own streams (`servername-<name>`) so that name uniqueness,
 * which spans server streams, can be claimed with an optimistic append. See handlers.ts.
 */
export const serverNameReservedSchema = z.object({
  name: serverNameSchema,
  serverId: z.uuid(),
  reservedAt: isoDate,
});
export const serverNameReleasedSchema = z.object({
  name: serverNameSchema,
  serverId: z.uuid(),
  releasedAt: isoDate,
});

export type ServerRegistered = { type: 'ServerRegistered'; data: z.infer<typeof serverRegisteredSchema> };
export type ServerUpdated = { type: 'ServerUpdated'; data: z.infer<typeof serverUpdatedSchema> };
export type ServerEnabled = { type: 'ServerEnabled'; data: z.infer<typeof serverEnabledSchema> };
export type ServerDisabled = { type: 'ServerDisabled'; data: z.infer<typeof serverDisabledSchema> };
export type ServerRefreshRequested = {
  type: 'ServerRefreshRequested';
  data: z.infer<typeof serverRefreshRequestedSchema>;
};
export type ServerRemoved = { type: 'ServerRemoved'; data: z.infer<typeof serverRemovedSchema> };

export type ServerEvent =
  | ServerRegistered
  | ServerUpdated
  | ServerEnabled
  | ServerDisabled
  | ServerRefreshRequested
  | ServerRemoved;
export type ServerEventType = ServerEvent['type'];

export type ServerNameReserved = {
  type: 'ServerNameReserved';
  data: z.infer<typeof serverNameReservedSchema>;
};
export type ServerNameReleased = {
  type: 'ServerNameReleased';
  data: z.infer<typeof serverNameReleasedSchema>;
};
export type ServerNameEvent = ServerNameReserved | ServerNameReleased;

/** Stream categories of this domain. */
export const SERVER_CATEGORY = 'server';
export const SERVER_NAME_CATEGORY = 'servername';

export const serverEventTypeNames: readonly ServerEventType[] = [
  'ServerRegistered',
  'ServerUpdated',
  'ServerEnabled',
  'ServerDisabled',
  'ServerRefreshRequested',
  'ServerRemoved',
];

/** Every event type this domain writes, at its current schema version. */
export const serverEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ServerRegistered', schemaVersion: 1, schema: serverRegisteredSchema },
  { type: 'ServerUpdated', schemaVersion: 1, schema: serverUpdatedSchema },
  { type: 'ServerEnabled', schemaVersion: 1, schema: serverEnabledSchema },
  { type: 'ServerDisabled', schemaVersion: 1, schema: serverDisabledSchema },
  { type: 'ServerRefreshRequested', schemaVersion: 1, schema: serverRefreshRequestedSchema },
  { type: 'ServerRemoved', schemaVersion: 1, schema: serverRemovedSchema },
  { type: 'ServerNameReserved', schemaVersion: 1, schema: serverNameReservedSchema },
  { type: 'ServerNameReleased', schemaVersion: 1, schema: serverNameReleasedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerServerEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...serverEventTypes);
}
