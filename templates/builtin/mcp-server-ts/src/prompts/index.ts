import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerSummarize } from './summarize.js';

/** Every prompt of the server. */
export function registerPrompts(server: McpServer): void {
  registerSummarize(server);
}
