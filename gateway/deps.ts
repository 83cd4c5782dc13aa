import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { DeploymentUseCases } from '../application/deployments/deployments.ts';
import type { CallTool } from '../application/toolcalls/call-tool.ts';
import type { Authorizer } from '../domains/access/index.ts';
import type { CatalogCommands } from '../domains/catalog/index.ts';
import type { ToolsetCommands } from '../domains/toolsets/index.ts';
import type { AuditLog } from '../event-store/audit/index.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PersonalDataVault } from '../kernel/personal-data.ts';
import type { RuntimeViews } from '../runners/runtime-views.port.ts';
import type { TemplateService } from '../templates/service.ts';
import type { GatewayAuth } from './auth/auth.plugin.ts';
import type { ResourceMetadataOptions } from './auth/resource-metadata.ts';
import type { BrowserGuardOptions } from './browser-guard.ts';
import type { ConsoleOptions } from './console/console.routes.ts';
import type { CatalogSource } from './mcp/catalog-source.ts';
import type { McpEndpoints } from './mcp/mcp.routes.ts';
import type { AccessRoutesDeps, ProjectionsPort, ServerCommandsPort } from './ports.ts';
import type { SystemRoutesDeps } from './routes/system.routes.ts';

export interface GatewayDeps {
  logger: Logger;
  /** Authentication, route authorization and edge rate limits. */
  auth: GatewayAuth;
  /** Identity and access use cases (/api/v1/me, keys, grants, policies…). */
  access: AccessRoutesDeps;
  /** Host and Origin checks on every route. */
  browserGuard: BrowserGuardOptions;
  /** The web console at /console (its sign-in settings); absent: no console. */
  console?: Omit<ConsoleOptions, 'version'> | undefined;
  /** Version, configuration (redacted) and the bus's state, for operators (/api/v1/system, /api/v1/bus). */
  system?: SystemRoutesDeps | undefined;
  /** Protected Resource Metadata, when an OpenID issuer is configured. */
  resourceMetadata?: ResourceMetadataOptions | undefined;
  bodyLimit: number;
  /** Slow clients are cut off: a whole request within requestMs, its headers within headersMs. */
  timeouts?: { requestMs: number; headersMs: number; keepAliveMs: number };
  consistencyTimeoutMs: number;
  servers: ServerCommandsPort;
  /** Named toolsets (written to their streams directly). */
  toolsets: ToolsetCommands;
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
  /** Deployments of MCP servers through the deployment saga (/api/v1/deployments). */
  deployments?: DeploymentUseCases | undefined;
  /** The tamper-evident log: verify it, export its signed checkpoints (absent with EventStoreDB). */
  audit?: AuditLog | undefined;
  /** Opens sealed personal data (tool-call arguments) for the audit replay; absent: shown sealed. */
  personalData?: Pick<PersonalDataVault, 'open'> | undefined;
  /** What git hosts sign template-source webhooks with; undefined: every webhook call is refused. */
  webhookSecret?: string | undefined;
  /** What the runners hold of a server now (instances, recent stderr); absent: 503 on those routes. */
  runtime?: RuntimeViews | undefined;
  /** MCP endpoints and tool execution; absent in a gateway built without upstream access. */
  mcp?: {
    endpoints: McpEndpoints;
    catalog: CatalogSource;
    callTool: CallTool;
    authz: Authorizer;
  };
}
