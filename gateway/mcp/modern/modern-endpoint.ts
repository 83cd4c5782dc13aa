import type { ServerResponse } from 'node:http';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { RESOURCE_NOT_FOUND } from '../../../runners/json-rpc-error.ts';
import {
  createSessionServer,
  type McpScope,
  type McpSessionDeps,
  type SessionIdentity,
  sessionCapabilities,
  sessionServerInfo,
} from '../session-server.ts';
import { localSessionState } from '../session-state.ts';
import { META, MODERN_VERSIONS, type ModernRequest } from './envelope.ts';

/** Where a request goes: the endpoint's scope and, for one server's endpoint, its capabilities. */
export interface ModernTarget {
  scope: McpScope;
  capabilities?: Record<string, unknown>;
}

/** Methods of the stateful revisions that 2026-07-28 removed. */
const NOT_SERVED = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** The capability each method needs on the endpoint. */
const NEEDS: Record<string, 'tools' | 'resources' | 'prompts' | 'completions'> = {
  'tools/list': 'tools',
  'tools/call': 'tools',
  'resources/list': 'resources',
  'resources/read': 'resources',
  'resources/templates/list': 'resources',
  'prompts/list': 'prompts',
  'prompts/get': 'prompts',
  'completion/complete': 'completions',
};

/** Results a client may cache (2026-07-28 CacheableResult), and requests whose answer may stream. */
const CACHEABLE = new Set([
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'prompts/list',
  'resources/read',
]);
const STREAMING = new Set(['tools/call', 'prompts/get', 'resources/read']);

/**
 * What a stateful endpoint declares, as a stateless one honours it: list changes and resource
 * updates reach a client on a `subscriptions/listen` stream (listen-stream.ts).
 */
function modernCapabilities(target: ModernTarget): Record<string, unknown> {
  const c = sessionCapabilities(target.scope, target.capabilities);
  return {
    ...(c.tools && { tools: { ...(c.tools.listChanged && { listChanged: true }) } }),
    ...(c.resources && {
      resources: {
        ...(c.resources.listChanged && { listChanged: true }),
        ...(c.resources.subscribe && { subscribe: true }),
      },
    }),
    ...(c.prompts && { prompts: { ...(c.prompts.listChanged && { listChanged: true }) } }),
    ...(c.completions && { completions: {} }),
    ...(c.logging && { logging: {} }),
  };
}

type Json = Record<string, unknown>;

/**
 * Serves one 2026-07-28 request (checked by checkModernRequest) on an MCP endpoint, statelessly:
 * `server/discover` from the endpoint's own description; every other method by the same session
 * server a 2025 client gets (same authorization, audit and upstream routing), made for this request
 * alone with the client's capabilities and log level from its `_meta`, its result given the
 * revision's fields (`resultType`, the server's identity in `_meta`, cache hints — private: what an
 * endpoint lists depends on who asks). A call, prompt or read whose client accepts a stream gets its
 * progress and log messages on it before the result.
 */
export async function serveModern(
  deps: McpSessionDeps,
  target: ModernTarget,
  request: ModernRequest,
  identity: SessionIdentity,
  res: ServerResponse,
  acceptsStream: boolean,
): Promise<void> {
  const serverInfo = sessionServerInfo(target.scope, deps.version);
  const capabilities = modernCapabilities(target);
  if (request.method === 'server/discover') {
    sendJson(res, 200, {
      jsonrpc: '2.0',
      id: request.id,
      result: {
        resultType: 'complete',
        supportedVersions: [...MODERN_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
        capabilities,
        ttlMs: 0,
        cacheScope: 'private',
        _meta: { [META.serverInfo]: serverInfo },
      },
    });
    return;
  }
  const needs = NEEDS[request.method];
  if (NOT_SERVED.has(request.method) || needs === undefined || !(needs in capabilities)) {
    sendJson(res, 404, {
      jsonrpc: '2.0',
      id: request.id,
      error: { code: ErrorCode.MethodNotFound, message: `Method not found: ${request.method.slice(0, 100)}` },
    });
    return;
  }

  const server = createSessionServer(
    deps,
    target.scope,
    identity,
    target.capabilities,
    localSessionState(request.logLevel),
  );
  const [client, served] = InMemoryTransport.createLinkedPair();
  const stream = acceptsStream && STREAMING.has(request.method) ? openStream(res) : undefined;
  try {
    const answer = new Promise<JSONRPCMessage>((resolve) => {
      client.onmessage = (message) => {
        if (
          (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) &&
          message.id === request.id
        )
          resolve(message);
        // Progress and log messages of this request; there is no one to send anything else to.
        else if (stream && !('id' in message)) stream.write(message);
      };
    });
    await server.connect(served);
    await client.start();
    // A client that goes away before the answer cancels the request (and so the upstream's call).
    let answered = false;
    res.once('close', () => {
      if (answered) return;
      void client
        .send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: request.id, reason: 'the client went away' },
        })
        .catch(() => undefined);
    });
    await client.send({ jsonrpc: '2.0', id: request.id, method: request.method, params: request.params });
    const message = await answer;
    answered = true;
    const reply = toModern(request.method, message, serverInfo);
    if (stream) stream.end(reply);
    else sendJson(res, reply.status, reply.body);
  } finally {
    await server.close().catch(() => undefined);
  }
}

/** A result or error of the session server, as the 2026-07-28 revision has it. */
function toModern(
  method: string,
  message: JSONRPCMessage,
  serverInfo: { name: string; version: string },
): { status: number; body: Json } {
  if (isJSONRPCErrorResponse(message)) {
    const { error } = message;
    if (error.code === ErrorCode.MethodNotFound) return { status: 404, body: message as unknown as Json };
    // An unknown resource is invalid params in 2026-07-28 (-32002 is retired).
    const code = error.code === RESOURCE_NOT_FOUND ? ErrorCode.InvalidParams : error.code;
    return { status: 200, body: { ...message, error: { ...error, code } } };
  }
  if (!isJSONRPCResultResponse(message)) return { status: 200, body: message as unknown as Json };
  const result: Json = { ...message.result };
  result.resultType = 'complete';
  result._meta = { ...((result._meta as Json | undefined) ?? {}), [META.serverInfo]: serverInfo };
  if (CACHEABLE.has(method)) {
    // Lists follow the catalog and the caller's grants, and a stateless client is told of no change.
    result.ttlMs = 0;
    result.cacheScope = 'private';
  }
  return { status: 200, body: { ...message, result } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** One JSON-RPC message as a server-sent event of a response stream. */
export function writeEvent(res: ServerResponse, message: unknown): void {
  res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
}

/** A response stream (SSE) of one request: its notifications, then its answer. */
function openStream(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (message: unknown) => writeEvent(res, message);
  return {
    write: event,
    end(reply: { body: Json }) {
      event(reply.body);
      res.end();
    },
  };
}
