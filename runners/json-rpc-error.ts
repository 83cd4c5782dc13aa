import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** MCP's "resource not found" (not in the SDK's ErrorCode enum). */
export const RESOURCE_NOT_FOUND = -32002;

/**
 * A JSON-RPC error that goes on the wire with exactly the message given. The SDK sends an error's
 * `message` as it is, and McpError puts "MCP error <code>: " in front of it, which an SDK client then
 * puts in front again on receipt ("MCP error -32602: MCP error -32602: …"). Still an McpError, so
 * whatever tells the SDK's errors apart by class goes on working.
 */
export class JsonRpcError extends McpError {
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
    this.message = message;
    this.name = 'JsonRpcError';
  }
}

/** The message an SDK client's McpError had on the wire: its own "MCP error <code>: " taken off once. */
export function wireMessage(error: McpError): string {
  const prefix = `MCP error ${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
