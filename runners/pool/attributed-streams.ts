import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

/** The request whose response stream the message being handled came on (a key from `attribute`). */
const relatedRequest = new AsyncLocalStorage<string>();

/**
 * The request a server-initiated message relates to, when it came on that request's response
 * stream; undefined otherwise (the standalone GET stream, stdio, SSE).
 */
export function relatedRequestKey(): string | undefined {
  return relatedRequest.getStore();
}

/**
 * Makes the messages a Streamable HTTP transport reads know which request they relate to. A server
 * sends a request's log messages, sampling, elicitation and roots requests on the SSE stream of the
 * POST that carried it, and the SDK client reads each stream in an async function started by
 * `send`: run inside an AsyncLocalStorage scope naming the request, everything that stream delivers
 * (the SDK hands notifications and requests to their handlers in promise continuations, which keep
 * the scope) sees that request's key. `onRequest` is told each request's key as it is sent.
 * Keys are `<connection>:<JSON-RPC id>`, so a reconnected session's ids never mix with the old ones.
 */
export function attribute(transport: Transport, connection: string, onRequest: (key: string) => void): void {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (!isJSONRPCRequest(message)) return send(message, options);
    const key = `${connection}:${String(message.id)}`;
    onRequest(key);
    return relatedRequest.run(key, () => send(message, options));
  };
}
