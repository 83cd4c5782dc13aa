import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerGuides } from './guides.js';
import { registerServerInfo } from './server-info.js';

/** Every resource and resource template of the server. */
export function registerResources(server: McpServer): void {
  registerServerInfo(server);
  registerGuides(server);
}
