import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import {
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import type { SessionInitialize } from './session-store.ts';

/** A gateway's id, as newGatewayId makes it. */
export const GATEWAY_ID = /^[0-9a-f]{16}$/;

export const newGatewayId = (): string => randomBytes(8).toString('hex');

/** Where a client's answer goes when the request it answers was sent by another gateway. */
export interface AnswerRouting {
  gatewayId: string;
  forward(gatewayId: string, message: JSONRPCMessage): void;
}

/**
 * The Streamable HTTP transport of one copy of a shared session. Two things set it apart from the
 * SDK's:
 * - It can take a session over (`adopt`): the client's initialize, replayed, makes the transport
 *   accept the session's id and the server know what the client negotiated.
 * - The requests it sends the client (sampling, elicitation, roots) carry this gateway's id in
 *   their JSON-RPC id (`<gatewayId>:<n>`), so that a client's answer that reaches another gateway
 *   is handed to this one, and an answer for this one is given back its own id.
 */
export class SessionTransport implements Transport {
  readonly web: WebStandardStreamableHTTPServerTransport;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  constructor(
    options: WebStandardStreamableHTTPServerTransportOptions,
    private readonly routing?: AnswerRouting,
  ) {
    this.web = new WebStandardStreamableHTTPServerTransport(options);
  }

  get sessionId(): string | undefined {
    return this.web.sessionId;
  }

  async start(): Promise<void> {
    this.web.onclose = () => this.onclose?.();
    this.web.onerror = (e) => this.onerror?.(e);
    this.web.onmessage = (message, extra) => this.receive(message, extra);
    await this.web.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const out =
      this.routing && isJSONRPCRequest(message)
        ? { ...message, id: `${this.routing.gatewayId}:${message.id}` }
        : message;
    await this.web.send(out, options);
  }

  close(): Promise<void> {
    return this.web.close();
  }

  /** Serves one HTTP request of the session. */
  handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<unknown> {
    const listener = getRequestListener((request) => this.web.handleRequest(request, { parsedBody }), {
      overrideGlobalObjects: false,
    });
    return listener(req, res);
  }

  /** Takes over a session another gateway opened: its client's initialize, replayed here. */
  async adopt(initialize: SessionInitialize): Promise<void> {
    const response = await this.web.handleRequest(
      new Request('http://gateway.invalid/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      }),
      { parsedBody: { jsonrpc: '2.0', id: 'adopt', method: 'initialize', params: initialize } },
    );
    const body = await response.text();
    if (!response.ok)
      throw new Error(`replaying the session's initialize failed: ${response.status} ${body}`);
  }

  /** A client's answer that reached another gateway, for a request this one sent. */
  deliver(message: JSONRPCMessage): void {
    this.receive(message);
  }

  private receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const routing = this.routing;
    if (
      routing &&
      (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) &&
      typeof message.id === 'string'
    ) {
      const at = message.id.lastIndexOf(':');
      const gatewayId = message.id.slice(0, at);
      const id = Number(message.id.slice(at + 1));
      // The id came back from the client: only a gateway id's shape is ever put on the bus.
      if (GATEWAY_ID.test(gatewayId) && Number.isSafeInteger(id)) {
        if (gatewayId !== routing.gatewayId) {
          routing.forward(gatewayId, message);
          return;
        }
        this.onmessage?.({ ...message, id }, extra);
        return;
      }
    }
    this.onmessage?.(message, extra);
  }
}
