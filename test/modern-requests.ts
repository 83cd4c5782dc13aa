import type { System } from '../runtime/compose.ts';
import { client } from './systems.ts';

type Json = Record<string, unknown>;

/** The capabilities a test's 2026-07-28 client declares unless it says otherwise: every question. */
export const ANSWERS_EVERYTHING = { elicitation: {}, sampling: {}, roots: {} };

/**
 * One 2026-07-28 request to an MCP endpoint of a system, as `token` (the test administrator by
 * default): the envelope in `_meta`, the routing headers, JSON or a stream as the client accepts.
 */
export function postModern(
  system: System,
  path: string,
  method: string,
  params: Json,
  options: { token?: string; capabilities?: Json; stream?: boolean; id?: number } = {},
) {
  const target = (params.name ?? params.uri) as string | undefined;
  return client(system, options.token)(path, {
    body: {
      jsonrpc: '2.0',
      id: options.id ?? 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? ANSWERS_EVERYTHING,
        },
      },
    },
    headers: {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      ...(target !== undefined && { 'mcp-name': target }),
      accept: options.stream ? 'application/json, text/event-stream' : 'application/json',
    },
  });
}
