import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** `echo`: returns its message unchanged. Handy to check that a client reaches the server at all. */
export function registerEcho(server: McpServer): void {
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the message it is given.',
      inputSchema: {
        message: z.string().max(100_000).describe('The message to send back'),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ message }) => ({
      content: [{ type: 'text', text: message }],
    }),
  );
}
