import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { RESOURCE_NOT_FOUND } from '../../../runners/json-rpc-error.ts';
import { JSONRPC_RATE_LIMITED } from '../../error-mapping.ts';
import {
  createSessionServer,
  type McpScope,
  type McpSessionDeps,
  type SessionIdentity,
} from '../session-server.ts';
import { localSessionState } from '../session-state.ts';
import { META, MISSING_CLIENT_CAPABILITY, type ModernRequest } from './envelope.ts';
import { InputFlow, RetryRefused } from './input-flow.ts';
import type { InputRounds } from './input-rounds.ts';

/**
 * One 2026-07-28 request as a flow (input-flow.ts): started on a session server made for it
 * alone, or continued by a retry with the client's answers, until it has a reply — its result, as
 * the revision has it, or the upstream's questions in an `input_required` result.
 */

type Json = Record<string, unknown>;

/** Where a request goes: the endpoint's scope and, for one server's endpoint, its capabilities. */
export interface ModernTarget {
  scope: McpScope;
  capabilities?: Record<string, unknown>;
}

/** Results a client may cache (2026-07-28 CacheableResult). */
const CACHEABLE = new Set([
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'prompts/list',
  'resources/read',
]);
/** An answer to a 2026-07-28 request: the HTTP status and the JSON-RPC response. */
export interface ModernReply {
  status: number;
  body: Json;
}

/** Sends a retry to the gateway holding the request it continues, and gives back its answer. */
export type ForwardRound = (
  holder: string,
  owner: string,
  request: ModernRequest,
  signal: AbortSignal,
) => Promise<ModernReply>;

/**
 * A retry another gateway received for a request held here (round-forwarding.ts): served as if it
 * had come here, without a stream for the round's progress.
 */
export async function serveForwardedRound(
  rounds: InputRounds,
  owner: string,
  request: ModernRequest,
): Promise<ModernReply> {
  try {
    const flow = await continueFlow(rounds, request, owner);
    return (await nextReply(flow, rounds, request.method, request.id)) as ModernReply;
  } catch (e) {
    if (e instanceof RetryRefused) return refusal(request.id, e);
    throw e;
  }
}

export const NOTHING_WAITING = 'requestState continues no request waiting for answers';

export function refusal(id: string | number, e: RetryRefused): ModernReply {
  return {
    status: 200,
    body: {
      jsonrpc: '2.0',
      id,
      error: { code: ErrorCode.InvalidParams, message: `Invalid params: ${e.message}` },
    },
  };
}

/**
 * What a flow answers next, with the round's progress and log messages to `sink` meanwhile: its
 * result, or the upstream's questions (the flow then waits in `rounds` for the client's retry);
 * nothing if the client went away first (the flow is then cancelled).
 */
export async function nextReply(
  flow: InputFlow,
  rounds: InputRounds,
  method: string,
  id: string | number,
  sink?: (message: JSONRPCMessage) => void,
  gone?: Promise<'gone'>,
): Promise<ModernReply | undefined> {
  flow.attach(sink);
  const event = await (gone ? Promise.race([flow.next(), gone]) : flow.next());
  flow.attach(undefined);
  if (event === 'gone') {
    await flow.close('the client went away');
    return undefined;
  }
  if (event.kind === 'answer') {
    await flow.close('answered');
    return toModern(method, event.message, flow.serverInfo);
  }
  if (!rounds.hasRoom(flow.owner)) {
    await flow.close('too many requests wait for their clients');
    return {
      status: 200,
      body: {
        jsonrpc: '2.0',
        id,
        error: {
          code: JSONRPC_RATE_LIMITED,
          message: 'Too many requests of this caller wait for its answers; answer or abandon one first',
        },
      },
    };
  }
  const requestState = rounds.hold(flow);
  return {
    status: 200,
    body: {
      jsonrpc: '2.0',
      id,
      result: {
        resultType: 'input_required',
        inputRequests: flow.inputRequests(),
        requestState,
        _meta: { [META.serverInfo]: flow.serverInfo },
      },
    },
  };
}

/** What a call, prompt or read is about: the flow of a retry must be about the same. */
const targetOf = (request: ModernRequest): string => String(request.params.name ?? request.params.uri ?? '');

/** A new request: a session server made for it alone, linked in memory, the request sent. */
export async function startFlow(
  rounds: InputRounds,
  deps: McpSessionDeps,
  target: ModernTarget,
  request: ModernRequest,
  identity: SessionIdentity,
  serverInfo: { name: string; version: string },
): Promise<InputFlow> {
  const server = createSessionServer(
    deps,
    target.scope,
    identity,
    target.capabilities,
    // The client's capabilities say which of an upstream's questions it can be asked (in rounds).
    localSessionState(request.logLevel, {
      clientCapabilities: request.clientCapabilities,
      clientRequestTimeoutMs: rounds.idleMs,
      oneShot: true,
    }),
  );
  const [client, served] = InMemoryTransport.createLinkedPair();
  const flow = new InputFlow(
    {
      owner: identity.principal().id,
      method: request.method,
      target: targetOf(request),
      requestId: request.id,
      serverInfo,
    },
    client,
    server,
  );
  await server.connect(served);
  await flow.start(request.params, request.inputResponses);
  return flow;
}

/** A retry: the flow its state continues, given the client's answers. */
export async function continueFlow(
  rounds: InputRounds,
  request: ModernRequest,
  owner: string,
): Promise<InputFlow> {
  const flow = rounds.take(request.requestState as string, owner, request.method, targetOf(request));
  try {
    await flow.answer(request.inputResponses ?? {});
  } catch (e) {
    rounds.restore(flow);
    throw e;
  }
  return flow;
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
    if (error.code === MISSING_CLIENT_CAPABILITY) return { status: 400, body: message as unknown as Json };
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
