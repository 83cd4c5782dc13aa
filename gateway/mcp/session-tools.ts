import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  McpError,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { isAppError } from '../../kernel/errors.ts';
import { validTraceparent } from '../../kernel/tracing.ts';
import { carriesUpstreamAnswer, toJsonRpcError, toToolErrorResult } from '../error-mapping.ts';
import type { CatalogServer } from './catalog-source.ts';
import type { SessionContext } from './session-context.ts';

/** tools/list and tools/call: the catalog's tools (and the platform's), calls through callTool. */
export function registerToolHandlers(ctx: SessionContext, capabilities: ServerCapabilities): void {
  const {
    deps,
    scope,
    identity,
    server,
    servers,
    allowed,
    toolResource,
    exposure,
    unknown,
    route,
    relay,
    prefix,
  } = ctx;
  /** The platform tool a name on this endpoint means, if any. */
  const platformTool = (name: string): string | undefined => {
    if (scope.kind === 'platform') return name;
    if (scope.kind !== 'aggregate' || scope.toolset || !name.startsWith(deps.platformPrefix))
      return undefined;
    const bare = name.slice(deps.platformPrefix.length);
    return deps.platform.has(bare, identity.principal()) ? bare : undefined;
  };

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
      if (scope.kind === 'aggregate' && scope.toolset) return { tools };
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
          metaTraceparent: validTraceparent(request.params._meta?.traceparent),
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
}
