import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError, type ErrorKind } from '../kernel/errors.ts';
import { JsonRpcError } from '../runners/json-rpc-error.ts';

/**
 * The one place that turns errors into protocol answers. Domains pick an error kind and a stable
 * code; this module decides HTTP statuses and RFC 7807 bodies (and, later, MCP results).
 */
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  concurrency: 412,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
  unavailable: 503,
  timeout: 504,
};

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  correlationId?: string;
  errors?: Array<{ path: string; message: string }>;
  [key: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(
  status: number,
  code: string,
  detail: string,
  extra: Partial<ProblemDetails> = {},
): ProblemDetails {
  return {
    type: `https://switchyard.dev/problems/${code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

/** A request URL as logs and answers show it: a token in `access_token=` (WebSocket clients) replaced. */
export function redactedUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1REDACTED');
}

/** Maps any thrown value to a problem document. Unknown errors never leak their message. */
export function toProblem(error: unknown): ProblemDetails {
  if (error instanceof AppError) {
    const status = STATUS_BY_KIND[error.kind];
    const { errors, ...details } = error.details ?? {};
    return problem(status, error.code, error.message, {
      ...(Array.isArray(errors) ? { errors: errors as ProblemDetails['errors'] } : {}),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    });
  }
  if (error instanceof ZodError) {
    return problem(400, 'REQUEST.INVALID', 'the request does not match its schema', {
      errors: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const fe = error as Partial<FastifyError> & { validation?: unknown };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = fe.validationContext ?? 'body';
    return problem(400, 'REQUEST.INVALID', `the request ${where} does not match its schema`, {
      errors: error.validation.map((v) => ({
        path: [where, ...pathOf(v.instancePath)].join('.'),
        message: v.message ?? 'invalid',
      })),
    });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'REQUEST.TOO_LARGE', 'the request body is larger than the configured limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE', 'send JSON with Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'REQUEST.EMPTY_BODY', 'the request body is empty but JSON was declared');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'REQUEST.MALFORMED_JSON', 'the request body is not valid JSON');
  }
  if (fe.statusCode === 400 && error instanceof SyntaxError) {
    return problem(400, 'REQUEST.MALFORMED_JSON', `the request body is not valid JSON: ${error.message}`);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return problem(fe.statusCode, fe.code ?? 'REQUEST.REJECTED', fe.message ?? 'request rejected');
  }
  return problem(500, 'INTERNAL', 'internal error; see the server log for this correlation id');
}

function pathOf(instancePath: string | undefined): string[] {
  return (instancePath ?? '').split('/').filter(Boolean);
}

/** Fastify error handler: logs server faults, answers problem+json. */
export function handleHttpError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toProblem(error);
  body.instance = redactedUrl(request.url);
  body.correlationId = String(request.id);
  if (error instanceof AppError && error.kind === 'rate_limited') {
    const headers = error.details?.headers;
    if (headers && typeof headers === 'object') reply.headers(headers as Record<string, string>);
    delete (body.details as Record<string, unknown> | undefined)?.headers;
  }
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.code, status: body.status }, 'request rejected');
  return reply.status(body.status).type('application/problem+json').send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = problem(404, 'ROUTE.NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
    instance: redactedUrl(request.url),
    correlationId: String(request.id),
  });
  return reply.status(404).type('application/problem+json').send(body);
}

/**
 * MCP: a tool call that failed outside the tool (upstream down, timeout, circuit open…) is still a
 * tool result, with `isError: true`, so the model sees what happened and can react.
 */
export function toToolErrorResult(error: unknown): {
  content: Array<{ type: 'text'; text: string }>;
  isError: true;
} {
  const p = toProblem(error);
  const text =
    p.status >= 500 && p.code === 'INTERNAL' ? 'internal error in the gateway' : `${p.code}: ${p.detail}`;
  return { content: [{ type: 'text', text }], isError: true };
}

/**
 * JSON-RPC error codes of the gateway's own, from the range JSON-RPC leaves to implementations
 * (-32000 to -32099) below the part MCP reserves for codes of its own (-32020 to -32099, e.g.
 * -32020 header mismatch, -32042 URL elicitation required); MCP and the SDK also use -32000
 * (connection closed), -32001 (timeout) and -32002 (unknown resource).
 */
export const JSONRPC_FORBIDDEN = -32003;
export const JSONRPC_RATE_LIMITED = -32010;
/** The upstream could not be reached, failed, or answered something that is not MCP. */
export const JSONRPC_UPSTREAM_FAILED = -32011;
/** No instance of the upstream can take the request now (down, starting, circuit open, not hosted). */
export const JSONRPC_UPSTREAM_UNAVAILABLE = -32012;

/** Whether an error is an upstream's own JSON-RPC error answer (relayed as it was sent). */
export function carriesUpstreamAnswer(error: unknown): boolean {
  return error instanceof AppError && upstreamAnswer(error.details ?? {}) !== undefined;
}

/** What an AppError says about the upstream's own JSON-RPC error, when it carries one. */
function upstreamAnswer(details: Record<string, unknown>): { code: number; message: string } | undefined {
  const { mcpCode, mcpMessage } = details;
  if (typeof mcpCode !== 'number' || !Number.isSafeInteger(mcpCode) || typeof mcpMessage !== 'string')
    return undefined;
  return { code: mcpCode, message: mcpMessage };
}

/**
 * MCP: malformed calls (unknown tool, prompt or resource; bad parameters) are JSON-RPC errors; so
 * are calls refused before they were made — not allowed (with the reasons and, for a token too
 * narrow, the scopes to ask for) or over a rate limit (with the seconds to wait). An upstream's own
 * JSON-RPC error is relayed exactly as it was sent (code, message, data); the gateway's errors carry
 * its stable code and the server (and tool, prompt or resource) they concern in `data`.
 */
export function toJsonRpcError(error: unknown, about: Record<string, string> = {}): McpError {
  if (error instanceof McpError) return error;
  const p = toProblem(error);
  const details = (p.details ?? {}) as Record<string, unknown>;
  const answer = upstreamAnswer(details);
  if (answer) return new JsonRpcError(answer.code, answer.message, details.mcpData);
  const data = {
    code: p.code,
    ...(typeof details.server === 'string' && { server: details.server }),
    ...about,
  };
  if (p.status === 403) {
    return new JsonRpcError(JSONRPC_FORBIDDEN, p.detail, {
      ...data,
      ...(details.requiredScopes !== undefined && { requiredScopes: details.requiredScopes }),
      ...(details.reasons !== undefined && { reasons: details.reasons }),
    });
  }
  if (p.status === 429) {
    return new JsonRpcError(JSONRPC_RATE_LIMITED, p.detail, {
      ...data,
      retryAfterSeconds: details.retryAfterSeconds,
    });
  }
  const code =
    p.status === 400 || p.status === 404
      ? ErrorCode.InvalidParams
      : p.status === 504
        ? ErrorCode.RequestTimeout
        : p.status === 502
          ? JSONRPC_UPSTREAM_FAILED
          : p.status === 503
            ? JSONRPC_UPSTREAM_UNAVAILABLE
            : ErrorCode.InternalError;
  return new JsonRpcError(code, p.status >= 500 && p.code === 'INTERNAL' ? 'internal error' : p.detail, data);
}
