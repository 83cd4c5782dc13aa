import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AnyObjectSchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  type CompleteRequest,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type ServerCapabilities,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CallTool } from '../../application/toolcalls/call-tool.ts';
import type { Action, Authorizer } from '../../domains/access/index.ts';
import { upstreamToolName } from '../../domains/servers/index.ts';
import { isAppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Principal } from '../../kernel/principal.ts';
import { JsonRpcError, RESOURCE_NOT_FOUND } from '../../runners/json-rpc-error.ts';
import type { CallOptions, Upstreams } from '../../runners/upstream.port.ts';
import { carriesUpstreamAnswer, toJsonRpcError, toToolErrorResult } from '../error-mapping.ts';
import { exposureOf, type Offering, renamed, resourceOwner } from './aggregate-names.ts';
import type { CatalogServer, CatalogSource } from './catalog-source.ts';
import { type Naming, type PrefixMode, unqualify, wrapUri } from './names.ts';
import type { PlatformTools } from './platform-tools.ts';
import { forwardResourceUpdates } from './session-subscriptions.ts';

/**
 * What one MCP session is about: every enabled server (plus the platform's tools under its prefix),
 * one server with its names unchanged, or the platform's own tools and resources alone.
 */
export type McpScope =
  | { kind: 'aggregate'; prefix: PrefixMode }
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
}

export interface SessionIdentity {
  /** Who sends the current message: the session's principal, as authenticated on this request. */
  principal: () => Principal;
  /** Correlation id of the HTTP request carrying the current message. */
  correlationId: () => string;
  traceparent: () => string | undefined;
}

type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1];

/**
 * The SDK answers a request whose params its schema refuses with -32603 (Internal error), as if the
 * gateway had failed (a zod error carries no JSON-RPC code). They are the caller's mistake: -32602
 * (Invalid params), for every method — initialize and ping too, which the SDK registers through this
 * same method from its constructors. Found by the MCP fuzzer (test/fuzz/mcp-fuzz.ts).
 */
class EdgeServer extends Server {
  override setRequestHandler<T extends AnyObjectSchema>(
    schema: T,
    handler: Parameters<Server['setRequestHandler']>[1],
  ): void {
    if (!(schema instanceof z.ZodObject)) {
      super.setRequestHandler(schema, handler);
      return;
    }
    const strict: z.ZodObject = schema;
    const lenient = strict.extend({ params: z.unknown().optional() }) as unknown as T;
    super.setRequestHandler(lenient, (request, extra) => {
      const parsed = strict.safeParse(request);
      if (!parsed.success)
        throw new JsonRpcError(
          ErrorCode.InvalidParams,
          `Invalid params for ${String(request.method)}: ${z.prettifyError(parsed.error)}`,
        );
      return handler(parsed.data as typeof request, extra);
    });
  }
}

/**
 * Builds the MCP server behind one client session. It answers lists from the catalog projection
 * (never by asking upstreams), and routes calls, reads and prompts to the owning upstream; tool
 * calls go through ExecuteTool so each one lands in the audit log.
 */
export function createSessionServer(
  deps: McpSessionDeps,
  scope: McpScope,
  identity: SessionIdentity,
  upstreamCapabilities?: Record<string, unknown>,
): Server {
  const capabilities: ServerCapabilities =
    scope.kind === 'aggregate'
      ? {
          tools: { listChanged: true },
          resources: { listChanged: true, subscribe: true },
          prompts: { listChanged: true },
          logging: {},
          // Completions and subscriptions go to the server owning the prompt, template or resource.
          completions: {},
        }
      : scope.kind === 'platform'
        ? { tools: {}, resources: {}, logging: {} }
        : mirrorCapabilities(upstreamCapabilities ?? {});
  const server = new EdgeServer(
    {
      name:
        scope.kind === 'server'
          ? `switchyard/${scope.name}`
          : scope.kind === 'platform'
            ? 'switchyard-platform'
            : 'switchyard',
      version: deps.version,
    },
    { capabilities },
  );

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

  async function servers(): Promise<CatalogServer[]> {
    if (scope.kind === 'platform') return [];
    if (scope.kind === 'aggregate') return (await deps.catalog.enabledServers()).filter(sees);
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
  const caller = randomUUID();
  const relay = (extra: Extra): CallOptions => {
    const client = server.getClientCapabilities() ?? {};
    const progressToken = extra._meta?.progressToken;
    return {
      signal: extra.signal,
      caller,
      ...(progressToken !== undefined && {
        onProgress: (p) =>
          void extra
            .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } })
            .catch(() => undefined),
      }),
      onLog: (params) =>
        void extra.sendNotification({ method: 'notifications/message', params }).catch(() => undefined),
      ...(client.sampling && {
        createMessage: (params, signal) =>
          extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema, {
            signal,
          }),
      }),
      ...(client.elicitation && {
        elicit: (params, signal) =>
          extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal }),
      }),
      ...(client.roots && {
        listRoots: (signal) => extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema, { signal }),
      }),
    };
  };

  /** The platform tool a name on this endpoint means, if any. */
  const platformTool = (name: string): string | undefined => {
    if (scope.kind === 'platform') return name;
    if (scope.kind !== 'aggregate' || !name.startsWith(deps.platformPrefix)) return undefined;
    const bare = name.slice(deps.platformPrefix.length);
    return deps.platform.has(bare, identity.principal()) ? bare : undefined;
  };

  // Only what this endpoint declares: the SDK refuses a handler for an undeclared capability, and
  // a single server's endpoint declares just what its upstream offers.
  if (capabilities.tools) {
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const principal = identity.principal();
      if (scope.kind === 'platform') return { tools: deps.platform.tools(principal) };
      const all = await servers();
      // Listed = callable: the same decision the call will make, less what depends on the arguments.
      const callable = (s: CatalogServer) =>
        s.tools.filter((t) => allowed('tool.call', toolResource(s, t.name)));
      if (scope.kind === 'server') return { tools: all[0] ? callable(all[0]) : [] };
      const names = exposure(all, 'tools');
      const tools = all.flatMap((s) =>
        callable(s).flatMap((t) => {
          const name = names.nameOf(s.name, t.name);
          return name === undefined ? [] : [{ ...t, name }];
        }),
      );
      const platform = deps.platform
        .tools(principal)
        .map((t) => ({ ...t, name: `${deps.platformPrefix}${t.name}` }));
      return { tools: [...platform, ...tools] };
    });

    server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
      const { name, arguments: args = {} } = request.params;
      const platformName = platformTool(name);
      if (platformName !== undefined) {
        if (!deps.platform.has(platformName, identity.principal())) throw unknown('tool', name);
        const { onProgress } = relay(extra);
        return deps.platform.call(platformName, args, {
          principal: identity.principal(),
          correlationId: identity.correlationId(),
          traceparent: identity.traceparent(),
          onProgress,
          signal: extra.signal,
          ...(scope.kind === 'aggregate' && { prefix }),
        });
      }
      const unknownTool = () => unknown('tool', name);
      const target = await route(name, 'tools');
      if (!target) throw unknownTool();
      try {
        const { result } = await deps.callTool({
          server: target.server,
          tool: target.name,
          args,
          principal: identity.principal(),
          unknownTool,
          via: 'mcp',
          sessionId: extra.sessionId,
          correlationId: identity.correlationId(),
          traceparent: identity.traceparent(),
          options: relay(extra),
        });
        return result;
      } catch (e) {
        if (e instanceof McpError) throw e;
        // Not allowed, over a rate limit, or arguments that cannot be recorded: refused, not made.
        if (isAppError(e) && (e.kind === 'forbidden' || e.kind === 'rate_limited' || e.kind === 'validation'))
          throw toJsonRpcError(e);
        // The upstream answered with a JSON-RPC error: its caller gets that error, as it was sent.
        if (carriesUpstreamAnswer(e)) throw toJsonRpcError(e);
        return toToolErrorResult(e);
      }
    });
  }

  if (capabilities.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('resource.read', serverResource(s)));
      if (scope.kind === 'server') return { resources: all[0]?.resources ?? [] };
      const names = exposure(all, 'resources');
      return {
        resources: [
          ...deps.platform.resources(identity.principal()),
          ...renamed(all, names, (s) => s.resources, 'uri'),
        ],
      };
    });

    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('resource.read', serverResource(s)));
      if (scope.kind === 'server') return { resourceTemplates: all[0]?.resourceTemplates ?? [] };
      const names = exposure(all, 'resourceTemplates');
      return {
        resourceTemplates: [
          ...deps.platform.resourceTemplates(identity.principal()),
          ...renamed(all, names, (s) => s.resourceTemplates, 'uriTemplate'),
        ],
      };
    });

    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      if (scope.kind !== 'server') {
        // The platform's own resources (template://, project://, analysis://) keep their URIs.
        let own: Awaited<ReturnType<PlatformTools['readResource']>>;
        try {
          own = await deps.platform.readResource(request.params.uri, identity.principal());
        } catch (e) {
          throw toJsonRpcError(e);
        }
        if (own) return own;
        if (scope.kind === 'platform') throw unknown('resource', request.params.uri);
      }
      let serverName: string;
      let uri: string;
      let wrapped = false;
      if (scope.kind === 'server') {
        serverName = scope.name;
        uri = request.params.uri;
      } else {
        const all = prefix === 'always' ? [] : await servers();
        const owner = resourceOwner(deps.naming, prefix, all, request.params.uri);
        if (!owner) throw unknown('resource', request.params.uri);
        ({ server: serverName, uri, wrapped } = owner);
      }
      const unknownResource = () => unknown('resource', request.params.uri);
      const target = await deps.catalog.serverByName(serverName);
      if (!target) throw unknownResource();
      require('resource.read', serverResource(target), unknownResource);
      try {
        const result = await deps.upstreams.readResource(target.serverId, uri, relay(extra));
        if (!wrapped) return result;
        return {
          ...result,
          contents: result.contents.map((c) => ({ ...c, uri: wrapUri(serverName, c.uri) })),
        };
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (capabilities.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('prompt.get', serverResource(s)));
      if (scope.kind === 'server') return { prompts: all[0]?.prompts ?? [] };
      const names = exposure(all, 'prompts');
      return { prompts: renamed(all, names, (s) => s.prompts, 'name') };
    });

    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const unknownPrompt = () => unknown('prompt', request.params.name);
      const target = await route(request.params.name, 'prompts');
      if (!target?.server.prompts.some((p) => p.name === target.name)) throw unknownPrompt();
      require('prompt.get', serverResource(target.server), unknownPrompt);
      try {
        return await deps.upstreams.getPrompt(
          target.server.serverId,
          target.name,
          request.params.arguments ?? {},
          relay(extra),
        );
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (scope.kind !== 'server') {
    server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  } else if (capabilities.logging) {
    // The single-server endpoint forwards the log level to its upstream, unchanged.
    server.setRequestHandler(SetLevelRequestSchema, async (r, extra) => {
      const [target] = await servers();
      if (!target) throw notEnabled();
      try {
        return await deps.upstreams.request(target.serverId, 'logging/setLevel', r.params, relay(extra));
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (capabilities.completions) {
    server.setRequestHandler(CompleteRequestSchema, async (r, extra) => {
      const { server: target, ref } = await completionTarget(r.params.ref);
      require('prompt.get', serverResource(target), () => unknownRef(r.params.ref));
      try {
        return await deps.upstreams.request(
          target.serverId,
          'completion/complete',
          { ...r.params, ref },
          relay(extra),
        );
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (capabilities.resources?.subscribe) {
    forwardResourceUpdates(server, {
      upstreams: deps.upstreams,
      logger: deps.logger,
      caller,
      relay,
      async resolve(uri) {
        const all = await servers();
        const owner =
          scope.kind === 'server'
            ? { server: scope.name, uri }
            : resourceOwner(deps.naming, prefix, all, uri);
        const target = owner && all.find((s) => s.name === owner.server);
        if (!owner || !target) throw unknown('resource', uri);
        require('resource.read', serverResource(target), () => unknown('resource', uri));
        return { serverId: target.serverId, uri: owner.uri };
      },
    });
  }

  type CompletionRef = CompleteRequest['params']['ref'];
  const unknownRef = (ref: CompletionRef) =>
    ref.type === 'ref/prompt' ? unknown('prompt', ref.name) : unknown('resource', ref.uri);

  /** The server a completion's prompt or URI template belongs to, and the reference in its names. */
  async function completionTarget(
    ref: CompletionRef,
  ): Promise<{ server: CatalogServer; ref: CompletionRef }> {
    const all = await servers();
    if (scope.kind === 'server') {
      if (!all[0]) throw notEnabled();
      return { server: all[0], ref };
    }
    const owner =
      ref.type === 'ref/prompt'
        ? exposure(all, 'prompts').byName.get(ref.name)
        : exposure(all, 'resourceTemplates').byName.get(ref.uri);
    const target = owner && all.find((s) => s.name === owner.server);
    if (!owner || !target) throw unknownRef(ref);
    return {
      server: target,
      ref: ref.type === 'ref/prompt' ? { ...ref, name: owner.name } : { ...ref, uri: owner.name },
    };
  }

  server.onerror = (error) => deps.logger.debug({ err: error }, 'mcp session error');
  return server;
}

/** The single-server endpoint offers what its upstream offers (as discovered). */
function mirrorCapabilities(upstream: Record<string, unknown>): ServerCapabilities {
  const out: ServerCapabilities = {};
  if (upstream.tools) out.tools = { listChanged: true };
  if (upstream.resources) {
    const subscribe = (upstream.resources as { subscribe?: boolean }).subscribe === true;
    out.resources = { listChanged: true, ...(subscribe && { subscribe: true }) };
  }
  if (upstream.prompts) out.prompts = { listChanged: true };
  if (upstream.logging) out.logging = {};
  if (upstream.completions) out.completions = {};
  return out;
}
