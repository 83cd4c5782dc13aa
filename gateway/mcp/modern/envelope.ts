import type { IncomingHttpHeaders } from 'node:http';
import {
  ErrorCode,
  type LoggingLevel,
  LoggingLevelSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { MODERN_META, MODERN_VERSION } from '../../../runners/pool/modern-wire.ts';

/** The stateless protocol revisions this gateway serves (no initialize, no session). */
export const MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

/** Keys of a 2026-07-28 request's `_meta` envelope, and of a result's. */
export const META = MODERN_META;

/** 2026-07-28 error codes (MCP's own range). */
export const HEADER_MISMATCH = -32020;
/** A request that needs a client capability the client did not declare (answered HTTP 400). */
export const MISSING_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** Methods the header `Mcp-Name` must name the target of, and where the body says it. */
const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** A 2026-07-28 request, checked: what it asks, and what the client said about itself with it. */
export interface ModernRequest {
  id: string | number;
  method: string;
  /** The params without the envelope's keys (a progress token stays). */
  params: Record<string, unknown>;
  version: string;
  clientCapabilities: Record<string, unknown>;
  /** What the client wants of the log messages of this request; 'off' when it asked for none. */
  logLevel: LoggingLevel | 'off';
  /** A retry of a request answered `input_required`: the client's answers, by the keys it was given. */
  inputResponses?: Record<string, Json>;
  /** A retry's state, echoed as it was given (input-rounds.ts checks its seal). */
  requestState?: string;
}

/** An answer to send as it is: the HTTP status and the JSON-RPC error. */
export interface Refusal {
  status: number;
  body: {
    jsonrpc: '2.0';
    id: string | number | null;
    error: { code: number; message: string; data?: unknown };
  };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether a request without a session speaks the stateless revision: it carries the per-request
 * envelope, or names in its `MCP-Protocol-Version` header a version that is not one of the
 * stateful ones (those are served as before).
 */
export function isModernRequest(headers: IncomingHttpHeaders, body: unknown): boolean {
  const header = headers['mcp-protocol-version'];
  if (typeof header === 'string' && !(SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(header))
    return true;
  const meta = isObject(body) && isObject(body.params) ? body.params._meta : undefined;
  return isObject(meta) && META.protocolVersion in meta;
}

function refuse(
  status: number,
  id: string | number | null,
  code: number,
  message: string,
  data?: unknown,
): Refusal {
  return {
    status,
    body: { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined && { data }) } },
  };
}

/** A request whose params break a rule of the revision's envelope or retry fields. */
const invalidParams = (id: string | number | null, what: string): Refusal =>
  refuse(400, id, ErrorCode.InvalidParams, `Invalid params: ${what}`);

/**
 * Checks a 2026-07-28 request at the edge, one rule per value: a single JSON-RPC request; its
 * envelope (protocol version and client capabilities required, a log level if any); a version this
 * gateway serves; and the routing headers saying what the body says (`MCP-Protocol-Version`,
 * `Mcp-Method`, and `Mcp-Name` for a call, a prompt or a read).
 */
export function checkModernRequest(headers: IncomingHttpHeaders, body: unknown): ModernRequest | Refusal {
  if (!isObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string')
    return refuse(400, null, ErrorCode.InvalidRequest, 'Invalid Request: one JSON-RPC request is expected');
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const method = body.method;
  const params = isObject(body.params) ? body.params : {};
  const meta = params._meta;
  if (!isObject(meta)) return invalidParams(id, '_meta is required');
  const version = meta[META.protocolVersion];
  if (typeof version !== 'string') return invalidParams(id, `_meta["${META.protocolVersion}"] is required`);
  const clientCapabilities = meta[META.clientCapabilities];
  if (!isObject(clientCapabilities))
    return invalidParams(id, `_meta["${META.clientCapabilities}"] is required`);
  const level = meta[META.logLevel];
  const parsedLevel = level === undefined ? undefined : LoggingLevelSchema.safeParse(level);
  if (parsedLevel && !parsedLevel.success)
    return invalidParams(id, `_meta["${META.logLevel}"] is not a log level`);
  // The headers first: a header naming another version than the body is a mismatch, not a choice.
  const mismatch = headerMismatch(headers, version, method, params);
  if (mismatch) return refuse(400, id, HEADER_MISMATCH, `Header mismatch: ${mismatch}`);
  if (!MODERN_VERSIONS.includes(version)) {
    return refuse(
      400,
      id,
      UNSUPPORTED_PROTOCOL_VERSION,
      `Unsupported protocol version: ${version.slice(0, 64)}`,
      {
        supported: [...MODERN_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
        requested: version.slice(0, 64),
      },
    );
  }
  if (id === null)
    return refuse(400, null, ErrorCode.InvalidRequest, 'Invalid Request: a request needs an id');
  const { _meta: _, inputResponses, requestState, ...rest } = params;
  const retry = checkRetry(inputResponses, requestState, 'inputResponses' in params);
  if (typeof retry === 'string') return invalidParams(id, retry);
  const progressToken = meta.progressToken;
  return {
    id,
    method,
    params: progressToken === undefined ? rest : { ...rest, _meta: { progressToken } },
    version,
    clientCapabilities,
    logLevel: parsedLevel?.data ?? 'off',
    ...retry,
  };
}

/** Bounds of a retry's fields: a client answers a few questions, and echoes a short state. */
const MAX_INPUT_RESPONSES = 32;
const MAX_KEY_LENGTH = 128;
const MAX_REQUEST_STATE = 512;

/** A retry's answers (an object of response objects) and state (a short string), or what is wrong. */
function checkRetry(
  inputResponses: unknown,
  requestState: unknown,
  answered: boolean,
): Pick<ModernRequest, 'inputResponses' | 'requestState'> | string {
  if (
    requestState !== undefined &&
    (typeof requestState !== 'string' || requestState.length > MAX_REQUEST_STATE)
  )
    return `requestState must be the string the server gave (at most ${MAX_REQUEST_STATE} characters)`;
  if (!answered) return requestState === undefined ? {} : { requestState };
  if (!isObject(inputResponses)) return 'inputResponses must be an object of responses by key';
  const entries = Object.entries(inputResponses);
  if (entries.length > MAX_INPUT_RESPONSES)
    return `inputResponses holds at most ${MAX_INPUT_RESPONSES} responses`;
  for (const [key, value] of entries) {
    if (key.length > MAX_KEY_LENGTH)
      return `an inputResponses key is longer than ${MAX_KEY_LENGTH} characters`;
    if (!isObject(value)) return `inputResponses["${key}"] must be a response object`;
  }
  return {
    inputResponses: inputResponses as Record<string, Json>,
    ...(requestState !== undefined && { requestState }),
  };
}

/** What a routing header says that the body does not, if anything. */
function headerMismatch(
  headers: IncomingHttpHeaders,
  version: string,
  method: string,
  params: Json,
): string | undefined {
  if (headers['mcp-protocol-version'] !== version) return 'MCP-Protocol-Version must be the version in _meta';
  if (headers['mcp-method'] !== method) return 'Mcp-Method must be the request method';
  const field = NAMED[method];
  if (field === undefined) return undefined;
  const target = params[field];
  if (typeof target !== 'string' || headers['mcp-name'] !== target)
    return `Mcp-Name must be the request's ${field}`;
  return undefined;
}
