import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../kernel/errors.ts';
import { egressRefusalIn } from '../egress.ts';
import { RESOURCE_NOT_FOUND, wireMessage } from '../json-rpc-error.ts';

/**
 * How a failed attempt at an upstream request reads, for three decisions: which AppError the
 * caller gets, whether the instance's circuit breaker counts it, and whether the one retry on
 * another instance is safe.
 */
export type FailureClass =
  /** The server answered with a JSON-RPC error: it is alive, the request was the problem. */
  | 'answered'
  /** The connection failed before the request reached the server (refused, session gone). */
  | 'not-delivered'
  /** The connection died while the request was out: the server may or may not have acted. */
  | 'lost'
  /** No answer within the timeout. */
  | 'timeout'
  /** The caller gave up. */
  | 'cancelled'
  /** The server answered something that is not a valid result. */
  | 'bad-answer';

/** Where a failure happened, for messages that name the server and the instance. */
export interface FailureContext {
  serverName: string;
  instance: number;
  /** e.g. `tools/call echo`. */
  operation: string;
  timeoutMs: number;
  /** Why the connection ended, when it did (exit code and stderr, a protocol violation). */
  closeReason?: string | undefined;
}

/** A failed attempt: the AppError to surface and how it classifies. */
export class AttemptError extends Error {
  constructor(
    readonly error: AppError,
    readonly failure: FailureClass,
  ) {
    super(error.message);
    this.name = 'AttemptError';
  }

  /** Safe to send again elsewhere: the first attempt never reached a server. */
  get retryable(): boolean {
    return this.failure === 'not-delivered';
  }

  /** Says something about the instance's health (the breaker counts it). */
  get instanceFault(): boolean {
    return this.failure === 'lost' || this.failure === 'timeout' || this.failure === 'bad-answer';
  }
}

/** Longest message of an upstream's JSON-RPC error relayed to the caller. */
const MAX_RELAYED_MESSAGE = 4_096;

/** The message of an McpError without the "MCP error -32602: " the SDK puts in front. */
export function mcpMessage(e: McpError): string {
  // A server built on the SDK already prefixes its messages; the client prefixes them again.
  return e.message.replace(/^(MCP error -?\d+: )+/, '');
}

export function classify(e: unknown, signal: AbortSignal | undefined): FailureClass {
  if (signal?.aborted) return 'cancelled';
  if (e instanceof AttemptError) return e.failure;
  // The egress policy refused the connection: nothing was sent.
  if (egressRefusalIn(e)) return 'not-delivered';
  // Our own checks of an answer (pagination, shapes) throw AppErrors.
  if (e instanceof AppError) return 'bad-answer';
  if (e instanceof McpError) {
    if (e.code === ErrorCode.RequestTimeout) return 'timeout';
    if (e.code === ErrorCode.ConnectionClosed) return 'lost';
    return 'answered';
  }
  if (e instanceof StreamableHTTPError) {
    // 404: the server forgot our session (restarted, expired); 5xx from a proxy in front of it, or
    // a refused request: either way, the JSON-RPC request was not processed.
    return 'not-delivered';
  }
  // The SDK rejects a result that fails its schema with the (zod) validation error itself.
  if (e instanceof Error && (e.name === 'ZodError' || Array.isArray((e as { issues?: unknown }).issues))) {
    return 'bad-answer';
  }
  if (e instanceof TypeError && /fetch failed/i.test(e.message)) return 'not-delivered';
  // The SSE transport's POST was refused (its answer is only an acknowledgement).
  if (e instanceof Error && SSE_POST_FAILED.test(e.message)) return 'not-delivered';
  if (e instanceof Error && e.message === 'Not connected') return 'not-delivered';
  return 'lost';
}

/** Turns whatever an SDK request threw into an AppError with the kinds the Upstreams port lists. */
export function toAttemptError(
  e: unknown,
  signal: AbortSignal | undefined,
  ctx: FailureContext,
): AttemptError {
  if (e instanceof AttemptError) return e;
  const refusal = egressRefusalIn(e);
  if (refusal) return new AttemptError(refusal, 'not-delivered');
  const failure = classify(e, signal);
  const where = `server '${ctx.serverName}' (instance #${ctx.instance})`;
  const details: Record<string, unknown> = { server: ctx.serverName, instance: ctx.instance };
  const make = (kind: AppError['kind'], code: string, message: string, extra: Record<string, unknown> = {}) =>
    new AttemptError(new AppError(kind, code, message, { ...details, ...extra }), failure);
  if (e instanceof AppError) return new AttemptError(e, failure);
  switch (failure) {
    case 'cancelled':
      return make(
        'timeout',
        'UPSTREAM.CANCELLED',
        `${ctx.operation} on ${where} was cancelled by the caller`,
      );
    case 'timeout':
      return make(
        'timeout',
        'UPSTREAM.TIMEOUT',
        `${where} did not answer ${ctx.operation} within ${ctx.timeoutMs} ms`,
        { timeoutMs: ctx.timeoutMs },
      );
    case 'lost':
      return make(
        'upstream',
        'UPSTREAM.CONNECTION_LOST',
        `${where} went away during ${ctx.operation}: ${ctx.closeReason ?? describeHttpFailure(e)}`,
      );
    case 'not-delivered':
      return make(
        'upstream',
        'UPSTREAM.CONNECTION_FAILED',
        `could not reach ${where} for ${ctx.operation}: ${describeHttpFailure(e)}`,
        e instanceof StreamableHTTPError && e.code !== undefined ? { httpStatus: e.code } : {},
      );
    case 'bad-answer':
      return make(
        'upstream',
        'UPSTREAM.BAD_RESULT',
        `${where} answered ${ctx.operation} with an invalid result: ${errorMessage(e).slice(0, 500)}`,
      );
    case 'answered': {
      const mcp = e as McpError;
      // The answer as the server sent it, for the gateway to relay unchanged (bounded: a hostile
      // server's message is not carried whole through every log line and event that quotes it).
      const extra = {
        mcpCode: mcp.code,
        mcpMessage: wireMessage(mcp).slice(0, MAX_RELAYED_MESSAGE),
        ...(mcp.data !== undefined ? { mcpData: mcp.data } : {}),
      };
      if (mcp.code === ErrorCode.InvalidParams) {
        return make('validation', 'UPSTREAM.INVALID_PARAMS', mcpMessage(mcp), extra);
      }
      if (mcp.code === ErrorCode.MethodNotFound) {
        return make('not_found', 'UPSTREAM.METHOD_NOT_FOUND', mcpMessage(mcp), extra);
      }
      if (mcp.code === RESOURCE_NOT_FOUND) {
        return make('not_found', 'UPSTREAM.RESOURCE_NOT_FOUND', mcpMessage(mcp), extra);
      }
      return make(
        'upstream',
        'UPSTREAM.ERROR',
        `${where} failed ${ctx.operation}: ${mcpMessage(mcp)}`,
        extra,
      );
    }
    default: {
      const _: never = failure;
      return _;
    }
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const SSE_POST_FAILED = /^Error POSTing to endpoint \(HTTP (\d+)\)/;
/** Longest reason kept from an error we did not word ourselves. */
const MAX_REASON = 200;

/**
 * What went wrong with an HTTP upstream, in words that can go into events, health and answers:
 * the method and status, or the network error — never the body of the upstream's answer (the
 * SDK puts it into its messages), nor a reason phrase or redirect target of the upstream's choosing.
 */
export function describeHttpFailure(e: unknown): string {
  const refusal = egressRefusalIn(e);
  if (refusal) return refusal.message;
  if (e instanceof StreamableHTTPError) {
    const message = e.message.replace(/^Streamable HTTP error: /, '');
    if (e.code === undefined || e.code < 100) {
      return /^Unexpected content type/.test(message)
        ? 'the upstream answered with an unexpected content type'
        : 'the upstream answered something that is not MCP';
    }
    const method = /^Error POSTing/.test(message)
      ? 'POST'
      : /^Failed to open SSE stream/.test(message)
        ? 'GET of the SSE stream'
        : /^Failed to terminate session/.test(message)
          ? 'DELETE'
          : 'request';
    return `${method} answered HTTP ${e.code}${/Redirect .*not followed/.test(message) ? ' (redirect not followed)' : ''}`;
  }
  if (!(e instanceof Error)) return clip(String(e));
  const ssePost = SSE_POST_FAILED.exec(e.message);
  if (ssePost) return `POST answered HTTP ${ssePost[1]}`;
  // The SSE transport's stream: the status when there was one (the message may carry a redirect target).
  const code = (e as { code?: unknown }).code;
  if (e.name === 'SseError' || e.constructor.name === 'SseError') {
    return typeof code === 'number' && code >= 100
      ? `the SSE stream answered HTTP ${code}`
      : `the SSE stream failed: ${clip(e.message.replace(/^SSE error: /, ''))}`;
  }
  if (e.name === 'UnauthorizedError') return 'the upstream asked for authorization (HTTP 401)';
  if (e instanceof TypeError && e.cause instanceof Error) return clip(`${e.message} (${e.cause.message})`);
  return clip(e.message);
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}…` : line;
}
