import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SERVER_DESCRIPTION, SERVER_NAME, SERVER_VERSION } from '../about.js';

export const SERVER_INFO_URI = `${SERVER_NAME}://server-info`;

const startedAt = new Date();

/** A static resource: one fixed URI, read fresh on every request. */
export function registerServerInfo(server: McpServer): void {
  server.registerResource(
    'server-info',
    SERVER_INFO_URI,
    {
      title: 'Server information',
      description: 'Name, version and runtime of this server, as JSON.',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(
            {
              name: SERVER_NAME,
              version: SERVER_VERSION,
              description: SERVER_DESCRIPTION,
              node: process.version,
              platform: `${process.platform}-${process.arch}`,
              startedAt: startedAt.toISOString(),
              uptimeSeconds: Math.round(process.uptime()),
            },
            null,
            2,
          ),
        },
      ],
    }),
  );
}
