import {
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * The wire of the 2026-07-28 revision as the pool speaks it to an upstream: the envelope's keys, one
 * POST of a request (its JSON answer, or its stream's events until the answer), and the
 * `server/discover` probe that says whether an upstream serves the revision (modern-http.ts).
 */

/** How the pool reaches an upstream: its egress-checked fetch, and the headers registered for it. */
export interface WireOptions {
  fetch: typeof fetch;
  headers: Record<string, string>;
}

/** The revision, and the keys of its per-request envelope and of a result's. */
export const MODERN_VERSION = '2026-07-28';
export const MODERN_META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
} as const;

/**
 * Where a question the pool puts to its caller carries the upstream's own key for it (the gateway
 * asks a 2026-07-28 client under that key; gateway/mcp/modern/input-flow.ts). Never sent to an upstream.
 */
export const INPUT_KEY_META = 'dev.switchyard/inputKey';

type Json = Record<string, unknown>;

/** Requests whose `Mcp-Name` header names their target, and where the params say it. */
const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/** One POST of the revision: its JSON answer, or its stream's events until the answer. */
export async function post(
  options: WireOptions,
  url: URL,
  body: JSONRPCRequest,
  signal: AbortSignal,
  onEvent: (message: JSONRPCMessage) => void,
): Promise<JSONRPCMessage> {
  const named = NAMED[body.method];
  const target = named && (body.params as Json | undefined)?.[named];
  const res = await options.fetch(url, {
    method: 'POST',
    signal,
    headers: {
      ...options.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': body.method,
      ...(typeof target === 'string' && { 'mcp-name': target }),
    },
    body: JSON.stringify(body),
  });
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream') && res.body) {
    let answer: JSONRPCMessage | undefined;
    await readEvents(res.body, (message) => {
      if ('id' in message && message.id === body.id && !('method' in message)) answer = message;
      else onEvent(message);
    });
    if (answer) return answer;
    throw new Error(`the upstream's stream ended without answering ${body.method}`);
  }
  const text = res.body ? await readCapped(res.body) : '';
  try {
    return JSON.parse(text) as JSONRPCMessage;
  } catch {
    throw new Error(`the upstream answered ${body.method} with HTTP ${res.status} and no JSON-RPC`);
  }
}

/** The longest answer or stream event of an upstream the pool reads. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/** A JSON answer's text, refused past MAX_EVENT_CHARS. */
async function readCapped(body: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > MAX_EVENT_CHARS)
      throw new Error(`the upstream sent an answer longer than ${MAX_EVENT_CHARS} characters`);
  }
  return text + decoder.decode();
}

/** The JSON-RPC messages of a server-sent event stream, in order. */
async function readEvents(body: ReadableStream<Uint8Array>, onMessage: (m: JSONRPCMessage) => void) {
  const decoder = new TextDecoder();
  const flush = (block: string) => {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data === '') return;
    try {
      onMessage(JSON.parse(data) as JSONRPCMessage);
    } catch {
      // An event that is not JSON-RPC is no message of ours.
    }
  };
  // The open event is kept in pieces and only each new piece is searched for the event's end, so a
  // long event costs its length, not its length squared. A '\r' that ends a chunk waits for the next.
  let pieces: string[] = [];
  let size = 0;
  let carry = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    let text = carry + decoder.decode(chunk, { stream: true });
    carry = text.endsWith('\r') ? '\r' : '';
    text = (carry ? text.slice(0, -1) : text).replace(/\r\n/g, '\n');
    // An event's end may straddle two pieces: the last piece's final newline is searched with this one
    // (end -1: the event is the pieces so far; its trailing newline is an empty line to flush).
    const joined = pieces.length > 0 && pieces[pieces.length - 1]?.endsWith('\n') ? '\n' : '';
    let found = (joined + text).indexOf('\n\n');
    let end = found - joined.length;
    while (found >= 0) {
      flush(pieces.join('') + text.slice(0, Math.max(0, end)));
      text = text.slice(end + 2);
      pieces = [];
      size = 0;
      found = text.indexOf('\n\n');
      end = found;
    }
    pieces.push(text);
    size += text.length;
    // An upstream's event is data we do not choose: one that never ends is not held without bound.
    if (size > MAX_EVENT_CHARS)
      throw new Error(`the upstream sent an event longer than ${MAX_EVENT_CHARS} characters`);
  }
  flush(pieces.join('') + carry);
}

/**
 * Asks an upstream whether it serves 2026-07-28: its `server/discover` result when it does,
 * undefined when it does not (or answers anything else: it is then spoken to as before).
 */
export async function discoverModern(
  url: URL,
  options: WireOptions & { clientInfo: { name: string; version: string } },
  timeoutMs: number,
): Promise<Json | undefined> {
  try {
    const answer = await post(
      options,
      url,
      {
        jsonrpc: '2.0',
        id: 'discover',
        method: 'server/discover',
        params: {
          _meta: {
            [MODERN_META.protocolVersion]: MODERN_VERSION,
            [MODERN_META.clientCapabilities]: {},
            [MODERN_META.clientInfo]: options.clientInfo,
          },
        },
      },
      AbortSignal.timeout(timeoutMs),
      () => undefined,
    );
    if (!isJSONRPCResultResponse(answer)) return undefined;
    const versions = answer.result.supportedVersions;
    return Array.isArray(versions) && versions.includes(MODERN_VERSION) ? (answer.result as Json) : undefined;
  } catch {
    return undefined;
  }
}
