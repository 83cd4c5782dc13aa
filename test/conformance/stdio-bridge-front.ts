/**
 * The conformance tool speaks Streamable HTTP only; `switchyard mcp --url` (the stdio bridge) speaks
 * stdio. This puts the bridge behind HTTP for the tool: the fixture's own HTTP front (sessions,
 * resumable SSE, DNS-rebinding protection), with each session piped message by message to a bridge
 * process of its own. What the bridge sends that is not a response goes on the stream of the one
 * request in flight (the tool's scenarios run one request at a time), else on the session's stream.
 * The scenarios about HTTP itself (several streams, resumption, Host/Origin) test this front, not
 * the bridge; every other scenario goes through the bridge to the gateway and on to the upstream.
 */
import { fileURLToPath } from 'node:url';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { cleanEnv } from '../e2e/program.ts';
import { type HttpFixture, type Servable, startHttpFixture } from './fixture-server.ts';

const BIN = fileURLToPath(new URL('../../bin/switchyard.mjs', import.meta.url));

/** One session of the front: a `switchyard mcp --url <gateway> <args>` process, piped. */
function bridgeSession(gateway: string, token: string, args: readonly string[]): Servable {
  const stdio = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--url', gateway, ...args],
    env: cleanEnv({ SWITCHYARD_TOKEN: token }),
    stderr: 'ignore',
  });
  let http: Transport | undefined;
  const inFlight = new Set<RequestId>();
  return {
    async connect(transport) {
      http = transport;
      transport.onmessage = (message) => {
        if (isJSONRPCRequest(message)) inFlight.add(message.id);
        void stdio.send(message);
      };
      transport.onclose = () => void stdio.close();
      stdio.onmessage = (message) => {
        if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
          if (message.id !== undefined) inFlight.delete(message.id);
          void transport.send(message);
          return;
        }
        const only = inFlight.size === 1 ? [...inFlight][0] : undefined;
        void transport.send(message, only === undefined ? undefined : { relatedRequestId: only });
      };
      await stdio.start();
      await transport.start();
    },
    async close() {
      await stdio.close();
      await http?.close();
    },
  };
}

/** An HTTP endpoint for the conformance tool in front of the stdio bridge to `gateway`. */
export function startBridgeFront(
  gateway: string,
  token: string,
  args: readonly string[],
): Promise<HttpFixture> {
  return startHttpFixture({ serve: () => bridgeSession(gateway, token, args) });
}
