import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerAdd } from './add.js';
import { registerCountdown } from './countdown.js';
import { registerEcho } from './echo.js';
import { registerWordCount } from './word-count.js';

/** Every tool of the server. One file per tool; add yours here. */
export function registerTools(server: McpServer): void {
  registerAdd(server);
  registerWordCount(server);
  registerEcho(server);
  registerCountdown(server);
}
