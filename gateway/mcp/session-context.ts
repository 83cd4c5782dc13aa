import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type ClientCapabilities,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  ListRootsResultSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallTool } from '../../application/toolcalls/call-tool.ts';
import type { Action, Authorizer } from '../../domains/access/index.ts';
import { upstreamToolName } from '../../domains/servers/index.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Principal } from '../../kernel/principal.ts';
import { JsonRpcError, RESOURCE_NOT_FOUND } from '../../runners/json-rpc-error.ts';
import type { CallOptions, Upstreams } from '../../runners/upstream.port.ts';
import { toJsonRpcError } from '../error-mapping.ts';
import { exposureOf, type Offering } from './aggregate-names.ts';
import type { CatalogServer, CatalogSource } from './catalog-source.ts';
import { type Exposure, type Naming, type PrefixMode, unqualify } from './names.ts';
import type { PlatformTools } from './platform-tools.ts';
import type { SessionState } from './session-state.ts';

/**
 * What one MCP session is about: every enabled server (plus the platform's tools under its prefix),
 * one server with its names unchanged, or the platform's own tools and resources alone.
 */
export type McpScope =
  | {
      kind: 'aggregate';
      prefix: PrefixMode;
      /** `/toolsets/<name>/mcp`: only that toolset's tools, as it is defined at each request. */
      toolset?: { name: string };
    }
  | { kind: 'server'; name: string }
  | { kind: 'platform' };

export interface McpSessionDeps {
  catalog: CatalogSource;
  authz: Authorizer;
  upstreams: Upstreams;
  callTool: CallTool;
  platform: PlatformTools;
  /** The platform's tools on the aggregate endpoint are `<platformPrefix><tool>`. */
  platformPrefix: string;
  naming: Naming;
  logger: Logger;
  version: string;
  /** A tenant's toolset by name (`/toolsets/<name>/mcp`); absent: no toolset endpoints. */
  toolsets?: (
    tenant: string,
    name: string,
  ) => Promise<{ tools: ReadonlyArray<{ server: string; tool: string }> } | undefined>;
}

export interface SessionIdentity {
  /** Who sends the current message: the session's principal, as authenticated on this request. */
  principal: () => Principal;
  /** Correlation id of the HTTP request carrying the current message. */
  correlationId: () => string;
  traceparent: () => string | undefined;
}

export type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1];

type AuthzResource = Parameters<Authorizer['decide']>[2];

/**
 * What every handler of one session shares: who it is, what it is about, and the lookups and
 * refusals that must read the same on every method (session-tools, -resources, -prompts).
 */
export interface SessionContext {
  deps: McpSessionDeps;
  scope: McpScope;
  identity: SessionIdentity;
  server: Server;
  /** The aggregate endpoint's prefix mode ('always' on the other endpoints). */
  prefix: PrefixMode;
  serverResource(s: CatalogServer): AuthzResource;
  toolResource(s: CatalogServer, served: string): AuthzResource;
  /** The list-phase decision: what a session is shown. */
  allowed(action: Action, resource: AuthzResource): boolean;
  sees(s: CatalogServer): boolean;
  unknown(what: 'tool' | 'prompt' | 'resource', name: string): JsonRpcError;
  notEnabled(): JsonRpcError;
  /** The servers this session is about, as the principal may see them. */
  servers(): Promise<CatalogServer[]>;
  require(action: Action, resource: AuthzResource, unknown: () => JsonRpcError): void;
  exposure(all: readonly CatalogServer[], offering: Offering): Exposure;
  route(
    name: string,
    offering: 'tools' | 'prompts',
  ): Promise<{ server: CatalogServer; name: string } | undefined>;
  /** How a request's progress, logs and server-to-client requests reach this session. */
  relay(extra: Extra): CallOptions;
  /** What the session's client set on it (log level, subscriptions), and who it is to the upstreams. */
  state: SessionState;
}

/** RFC 5424 severities, least severe first, as MCP's logging levels are. */
const LOG_LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** Whether a message at `level` reaches a client that asked for `wanted` and above. */
export function wantsLog(wanted: LoggingLevel | 'off' | undefined, level: LoggingLevel): boolean {
  if (wanted === 'off') return false;
  return wanted === undefined || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(wanted);
}

export function sessionContext(
  deps: McpSessionDeps,
  scope: McpScope,
  identity: SessionIdentity,
  server: Server,
  state: SessionState,
): SessionContext {
  /** A server as authorization sees it. */
  const serverResource = (s: CatalogServer) =>
    ({ kind: 'server', tenant: s.tenant, server: s.name, owner: s.owner }) as const;
  /** A tool as authorization sees it: by the upstream's own name, whatever it is served as. */
  const toolResource = (s: CatalogServer, served: string) =>
    ({
      kind: 'tool',
      tenant: s.tenant,
      server: s.name,
      tool: upstreamToolName(s.toolOrigins, served),
      owner: s.owner,
    }) as const;
  const allowed = (action: Action, resource: Parameters<Authorizer['decide']>[2]) =>
    deps.authz.decide(identity.principal(), action, resource, { phase: 'list' }).effect === 'allow';
  /** Whether the principal sees the server at all (a tool grant is enough to see it). */
  const sees = (s: CatalogServer) =>
    deps.authz.decide(identity.principal(), 'server.read', serverResource(s)).visible;

  /**
   * An unknown (or unseen) tool, prompt or resource: -32602 as MCP says for tools and prompts, and
   * -32002 (resource not found) for resources; on a server's own endpoint, naming the server.
   */
  function unknown(what: 'tool' | 'prompt' | 'resource', name: string): JsonRpcError {
    const server = scope.kind === 'server' ? scope.name : undefined;
    return new JsonRpcError(
      what === 'resource' ? RESOURCE_NOT_FOUND : ErrorCode.InvalidParams,
      `unknown ${what} '${name}'${server ? ` on server '${server}'` : ''}`,
      {
        code: `MCP.UNKNOWN_${what.toUpperCase()}`,
        ...(server && { server }),
        [what === 'resource' ? 'uri' : what]: name,
      },
    );
  }

  /** The endpoint's own server is gone or disabled (only `/servers/<name>/mcp` has one). */
  const notEnabled = () => {
    const server = scope.kind === 'server' ? scope.name : '';
    return new JsonRpcError(ErrorCode.InvalidRequest, `server '${server}' is not enabled (any more)`, {
      code: 'MCP.SERVER_NOT_ENABLED',
      server,
    });
  };

  /** The toolset's tools now (`<server>\u0000<tool>`): a redefinition applies to open sessions too. */
  async function toolsetTools(name: string): Promise<ReadonlySet<string>> {
    const found = await deps.toolsets?.(identity.principal().tenant, name);
    if (!found) {
      throw new JsonRpcError(ErrorCode.InvalidRequest, `toolset '${name}' does not exist (any more)`, {
        code: 'MCP.TOOLSET_GONE',
        toolset: name,
      });
    }
    return new Set(found.tools.map((t) => `${t.server}\u0000${t.tool}`));
  }

  async function servers(): Promise<CatalogServer[]> {
    if (scope.kind === 'platform') return [];
    if (scope.kind === 'aggregate') {
      const visible = (await deps.catalog.enabledServers()).filter(sees);
      if (!scope.toolset) return visible;
      const tools = await toolsetTools(scope.toolset.name);
      return visible.flatMap((s) => inToolset(s, tools));
    }
    const s = await deps.catalog.serverByName(scope.name);
    if (!s || !sees(s)) throw notEnabled();
    return [s];
  }

  /** Refuses what the principal may not do: as unknown when it may not see it, else as forbidden. */
  function require(
    action: Action,
    resource: Parameters<Authorizer['decide']>[2],
    unknown: () => JsonRpcError,
  ): void {
    try {
      deps.authz.require(identity.principal(), action, resource, { hidden: unknown });
    } catch (e) {
      throw toJsonRpcError(e);
    }
  }

  /** The aggregate endpoint's names (its prefix mode) for what the visible servers offer. */
  const prefix: PrefixMode = scope.kind === 'aggregate' ? scope.prefix : 'always';
  const exposure = (all: readonly CatalogServer[], offering: Offering) =>
    exposureOf(deps.naming, prefix, all, offering, deps.platformPrefix);

  /** The server a tool or prompt name on this endpoint belongs to, and the server's own name for it. */
  async function route(
    name: string,
    offering: 'tools' | 'prompts',
  ): Promise<{ server: CatalogServer; name: string } | undefined> {
    if (scope.kind === 'server') {
      const [server] = await servers();
      return server ? { server, name } : undefined;
    }
    if (prefix === 'always') {
      const parts = unqualify(deps.naming, name);
      if (!parts) return undefined;
      const server = await deps.catalog.serverByName(parts.server);
      return server && sees(server) ? { server, name: parts.name } : undefined;
    }
    const all = await servers();
    const owner = exposure(all, offering).byName.get(name);
    const server = owner && all.find((s) => s.name === owner.server);
    return server && owner ? { server, name: owner.name } : undefined;
  }

  // This server is one client (a session, a stdio connection, or one sessionless request): the
  // upstream's sampling and elicitation requests are routed only when they cannot be another's.
  const relay = (extra: Extra): CallOptions => {
    const client: ClientCapabilities =
      (state.clientCapabilities as ClientCapabilities | undefined) ?? server.getClientCapabilities() ?? {};
    const timeout = state.clientRequestTimeoutMs;
    const asking = (signal: AbortSignal) => ({ signal, ...(timeout !== undefined && { timeout }) });
    const progressToken = extra._meta?.progressToken;
    return {
      signal: extra.signal,
      caller: state.caller,
      ...(state.oneShot && { oneShot: true }),
      ...(progressToken !== undefined && {
        onProgress: (p) =>
          void extra
            .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } })
            .catch(() => undefined),
      }),
      onLog: (params) => {
        if (!wantsLog(state.logLevel(), params.level)) return;
        void extra.sendNotification({ method: 'notifications/message', params }).catch(() => undefined);
      },
      ...(client.sampling && {
        createMessage: (params, signal) =>
          extra.sendRequest(
            { method: 'sampling/createMessage', params },
            CreateMessageResultSchema,
            asking(signal),
          ),
      }),
      ...(client.elicitation && {
        elicit: (params, signal) =>
          extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, asking(signal)),
      }),
      ...(client.roots && {
        listRoots: (signal) =>
          extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema, asking(signal)),
      }),
    };
  };

  return {
    deps,
    scope,
    identity,
    server,
    prefix,
    serverResource,
    toolResource,
    allowed,
    sees,
    unknown,
    notEnabled,
    servers,
    require,
    exposure,
    route,
    relay,
    state,
  };
}

/** A server as a toolset's endpoint serves it: the set's tools of it, and nothing else. */
function inToolset(s: CatalogServer, tools: ReadonlySet<string>): CatalogServer[] {
  const kept = s.tools.filter((t) => tools.has(`${s.name}\u0000${t.name}`));
  return kept.length === 0 ? [] : [{ ...s, tools: kept, resources: [], resourceTemplates: [], prompts: [] }];
}
