import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Authorizer, IdentityService, RulesService } from '../domains/access/index.ts';
import type { CatalogCommands } from '../domains/catalog/index.ts';
import type { EventStore } from '../event-store/event-store.port.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { Logger } from '../kernel/logger.ts';
import type { TemplateService } from '../templates/service.ts';
import type { GatewayAuth } from './auth/auth.plugin.ts';
import type { ResourceMetadataOptions } from './auth/resource-metadata.ts';
import type { BrowserGuardOptions } from './browser-guard.ts';
import type { CatalogSource } from './mcp/catalog-source.ts';
import type { McpEndpoints } from './mcp/mcp.routes.ts';
import type { ToolExecutor } from './tool-execution.ts';

/** Identity and access use cases behind /api/v1/me, keys, principals, grants, policies, rate limits. */
export interface AccessRoutesDeps {
  identity: IdentityService;
  rules: RulesService;
  /** A server's tenant and owner by name, for explain (undefined when there is none). */
  serverOf(name: string): Promise<{ tenant: string; owner?: string } | undefined>;
}

/** Outcome of a write, as every write endpoint answers it (202). */
export interface WriteResult {
  id: string;
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  duplicate: boolean;
}

/** Server commands as the gateway sees them; the composition root routes them (bus or direct). */
export interface ServerCommandsPort {
  register(input: unknown, meta: CommandMeta): Promise<WriteResult>;
  update(id: string, patch: unknown, meta: CommandMeta): Promise<WriteResult>;
  enable(id: string, meta: CommandMeta): Promise<WriteResult>;
  disable(id: string, meta: CommandMeta): Promise<WriteResult>;
  remove(id: string, meta: CommandMeta): Promise<WriteResult>;
  /** Asks for the server's capabilities to be discovered again. */
  refresh(id: string, meta: CommandMeta): Promise<WriteResult>;
}

export interface ProjectionStatusView {
  name: string;
  state: string;
  checkpoint: string;
  lagEvents: number;
  lagMs: number;
  lastError?: string | null | undefined;
  [key: string]: unknown;
}

/** An operator's decision about one event of a projection (quarantine or release). */
export interface ProjectionDecision {
  /** The event the decision is about. */
  eventId: string;
  /** The projection's decisions stream and its revision after the command. */
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  /** True for a retried command (same Idempotency-Key): nothing new was appended. */
  duplicate: boolean;
  /** True when something was appended (false: the event was already quarantined). */
  recorded: boolean;
}

/** Projection operations; works the same whether the projector runs in this process or not. */
export interface ProjectionsPort {
  status(): Promise<ProjectionStatusView[]>;
  /** Starts a rebuild; resolves when the rebuilt tables have been swapped in. */
  rebuild(name: string): Promise<{ name: string; events: number; durationMs: number }>;
  /**
   * Records that projection `name` skips the event (it must be in the log, and one the projection
   * reads); every runner honours it, live and in rebuilds. Written to the log from any process.
   */
  quarantine(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecision>;
  /** Lifts a quarantine: the next rebuild applies the event again. */
  release(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecision>;
  /** True once the named projection has applied everything up to `position` (bounded wait). */
  waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<boolean>;
}

export interface GatewayDeps {
  logger: Logger;
  /** Authentication, route authorization and edge rate limits. */
  auth: GatewayAuth;
  /** Identity and access use cases (/api/v1/me, keys, grants, policies…). */
  access: AccessRoutesDeps;
  /** Host and Origin checks on every route. */
  browserGuard: BrowserGuardOptions;
  /** Protected Resource Metadata, when an OpenID issuer is configured. */
  resourceMetadata?: ResourceMetadataOptions | undefined;
  bodyLimit: number;
  /** Slow clients are cut off: a whole request within requestMs, its headers within headersMs. */
  timeouts?: { requestMs: number; headersMs: number; keepAliveMs: number };
  consistencyTimeoutMs: number;
  servers: ServerCommandsPort;
  /** Approving tool definitions of servers that pin them (written to the catalog stream directly). */
  toolApprovals: Pick<CatalogCommands, 'approveTool'>;
  /** Read-model database (Kysely over pg or PGlite). */
  // biome-ignore lint/suspicious/noExplicitAny: read models span tables owned by several projections
  readDb: Kysely<any>;
  store: EventStore;
  projections: ProjectionsPort;
  /** Each dependency's reachability, for /ready. */
  readiness: () => Promise<Record<string, { ok: boolean; detail?: string }>>;
  metrics: Registry;
  version: string;
  /** Template catalog, project generation and code analysis (/api/v1/templates…). */
  templates?: TemplateService;
  /** MCP endpoints and tool execution; absent in a gateway built without upstream access. */
  mcp?: {
    endpoints: McpEndpoints;
    catalog: CatalogSource;
    executeTool: ToolExecutor;
    authz: Authorizer;
  };
}
