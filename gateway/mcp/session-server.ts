import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AnyObjectSchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { ErrorCode, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { JsonRpcError } from '../../runners/json-rpc-error.ts';
import {
  type McpScope,
  type McpSessionDeps,
  type SessionIdentity,
  sessionContext,
} from './session-context.ts';
import { registerPromptHandlers } from './session-prompts.ts';
import { registerResourceHandlers } from './session-resources.ts';
import { localSessionState, type SessionState } from './session-state.ts';
import { registerToolHandlers } from './session-tools.ts';

export type { McpScope, McpSessionDeps, SessionIdentity } from './session-context.ts';

/**
 * The SDK answers a request whose params its schema refuses with -32603 (Internal error), as if the
 * gateway had failed (a zod error carries no JSON-RPC code). They are the caller's mistake: -32602
 * (Invalid params), for every method — initialize and ping too, which the SDK registers through this
 * same method from its constructors. Found by the MCP fuzzer (test/fuzz/mcp-fuzz.ts).
 */
/**
 * The request schema with its params unchecked, built once per schema: every session (and every
 * 2026-07-28 request, which gets a server of its own) registers the same dozen handlers.
 */
const lenientSchemas = new WeakMap<z.ZodObject, z.ZodObject>();
function lenientOf(strict: z.ZodObject): z.ZodObject {
  let lenient = lenientSchemas.get(strict);
  if (!lenient) {
    lenient = strict.extend({ params: z.unknown().optional() });
    lenientSchemas.set(strict, lenient);
  }
  return lenient;
}

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
    const lenient = lenientOf(strict) as unknown as T;
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

/** What an endpoint declares: the aggregate's own set, a toolset's tools, or one server's as discovered. */
export function sessionCapabilities(
  scope: McpScope,
  upstreamCapabilities?: Record<string, unknown>,
): ServerCapabilities {
  if (scope.kind === 'aggregate' && scope.toolset)
    // A toolset is its tools: no resources, prompts or platform tools.
    return { tools: { listChanged: true }, logging: {} };
  if (scope.kind === 'aggregate')
    return {
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      logging: {},
      // Completions and subscriptions go to the server owning the prompt, template or resource.
      completions: {},
    };
  if (scope.kind === 'platform') return { tools: {}, resources: {}, logging: {} };
  return mirrorCapabilities(upstreamCapabilities ?? {});
}

/** How an endpoint names itself to its clients. */
export function sessionServerInfo(scope: McpScope, version: string): { name: string; version: string } {
  const name =
    scope.kind === 'server'
      ? `switchyard/${scope.name}`
      : scope.kind === 'platform'
        ? 'switchyard-platform'
        : scope.toolset
          ? `switchyard/toolset/${scope.toolset.name}`
          : 'switchyard';
  return { name, version };
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
  state: SessionState = localSessionState(),
): Server {
  const capabilities = sessionCapabilities(scope, upstreamCapabilities);
  const server = new EdgeServer(sessionServerInfo(scope, deps.version), { capabilities });

  const ctx = sessionContext(deps, scope, identity, server, state);
  // Only what this endpoint declares: the SDK refuses a handler for an undeclared capability, and
  // a single server's endpoint declares just what its upstream offers.
  registerToolHandlers(ctx, capabilities);
  registerResourceHandlers(ctx, capabilities);
  registerPromptHandlers(ctx, capabilities);
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
