import type { ServerResponse } from 'node:http';
import {
  ErrorCode,
  type JSONRPCMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type McpSessionDeps,
  type SessionIdentity,
  sessionCapabilities,
  sessionServerInfo,
} from '../session-server.ts';
import { META, MODERN_VERSIONS, type ModernRequest } from './envelope.ts';
import { type InputFlow, RetryRefused } from './input-flow.ts';
import { InputRounds } from './input-rounds.ts';
import {
  continueFlow,
  type ForwardRound,
  type ModernTarget,
  NOTHING_WAITING,
  nextReply,
  refusal,
  startFlow,
} from './request-flow.ts';

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

/** Requests whose answer may stream (progress, log messages), and that may ask in rounds. */
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
 * progress and log messages on it before the result. A question the upstream asks in the middle
 * (sampling, elicitation, roots) is answered `input_required`, and the request waits, held in
 * `rounds`, for the client's retry with its answers (input-flow.ts, input-rounds.ts).
 */
export async function serveModern(
  deps: McpSessionDeps,
  target: ModernTarget,
  request: ModernRequest,
  identity: SessionIdentity,
  res: ServerResponse,
  acceptsStream: boolean,
  rounds: InputRounds,
  forward?: ForwardRound,
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

  const owner = identity.principal().id;
  const streams = acceptsStream && STREAMING.has(request.method);
  const retry = request.requestState !== undefined && STREAMING.has(request.method);
  const holder = retry ? InputRounds.holderOf(request.requestState as string) : undefined;
  if (forward && holder !== undefined && holder !== rounds.gatewayId) {
    // Another gateway holds the request this retry continues: it answers the round.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const reply = await forward(holder, owner, request, gone.signal).catch(() =>
      refusal(request.id, new RetryRefused(`${NOTHING_WAITING} (the gateway holding it is gone)`)),
    );
    sendJson(res, reply.status, reply.body);
    return;
  }
  let flow: InputFlow;
  try {
    flow = retry
      ? await continueFlow(rounds, request, owner)
      : await startFlow(rounds, deps, target, request, identity, serverInfo);
  } catch (e) {
    if (!(e instanceof RetryRefused)) throw e;
    const reply = refusal(request.id, e);
    sendJson(res, reply.status, reply.body);
    return;
  }
  // A stream is opened by the first progress or log message: an answer with none goes as JSON,
  // with its own HTTP status (400 for a missing client capability, say).
  let stream: ReturnType<typeof openStream> | undefined;
  const sink = streams
    ? (message: JSONRPCMessage) => {
        stream ??= openStream(res);
        stream.write(message);
      }
    : undefined;
  // A client that goes away before the answer cancels the request (and so the upstream's call).
  const gone = new Promise<'gone'>((resolve) => res.once('close', () => resolve('gone')));
  const reply = await nextReply(flow, rounds, request.method, request.id, sink, gone);
  if (!reply) return;
  if (stream) stream.end(reply);
  else sendJson(res, reply.status, reply.body);
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
