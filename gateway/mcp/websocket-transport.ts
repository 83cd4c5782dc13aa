import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import type { WebSocket } from 'ws';

/** Close codes (RFC 6455): a message that is not MCP, a message too large, a normal close. */
const UNSUPPORTED_DATA = 1003;
const POLICY_VIOLATION = 1008;
const NORMAL = 1000;

/**
 * MCP over one WebSocket, the server side of the SDK's WebSocketClientTransport: each text message
 * is one JSON-RPC message (subprotocol `mcp`). A message that is not text, not JSON or not JSON-RPC
 * ends the connection (there is no request id to answer); sizes are bounded by the socket's
 * maxPayload.
 */
export class WebSocketServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private closed = false;

  constructor(private readonly socket: WebSocket) {}

  async start(): Promise<void> {
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) return this.refuse(UNSUPPORTED_DATA, 'binary messages are not MCP');
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return this.refuse(UNSUPPORTED_DATA, 'a message that is not JSON');
      }
      const message = JSONRPCMessageSchema.safeParse(parsed);
      if (!message.success) return this.refuse(UNSUPPORTED_DATA, 'a message that is not JSON-RPC');
      this.onmessage?.(message.data);
    });
    this.socket.on('close', () => this.ended());
    this.socket.on('error', (e) => this.onerror?.(e));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) throw new Error('Not connected');
    await new Promise<void>((resolve, reject) =>
      this.socket.send(JSON.stringify(message), (e) => (e ? reject(e) : resolve())),
    );
  }

  async close(): Promise<void> {
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(NORMAL);
    this.ended();
  }

  /** Ends the connection with a reason the client can read (what it sent, never ours to explain). */
  refuse(code: number = POLICY_VIOLATION, reason = 'refused'): void {
    this.onerror?.(new Error(reason));
    this.socket.close(code, reason);
    this.ended();
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}
