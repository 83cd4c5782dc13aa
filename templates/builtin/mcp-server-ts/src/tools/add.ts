import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/**
 * `add`: the smallest useful tool with an output schema. The result carries both `content` (text,
 * for clients and models that read text) and `structuredContent` (typed data, validated by the SDK
 * against `outputSchema` before it is sent).
 */
export function registerAdd(server: McpServer): void {
  server.registerTool(
    'add',
    {
      title: 'Add two numbers',
      description: 'Adds two numbers and returns their sum.',
      inputSchema: {
        a: z.number().describe('The first addend'),
        b: z.number().describe('The second addend'),
      },
      outputSchema: {
        sum: z.number().describe('a + b'),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ a, b }) => {
      const sum = a + b;
      if (!Number.isFinite(sum)) {
        // A thrown error becomes a tool result with `isError: true`, which the model gets to see
        // (a protocol error would only reach the client).
        throw new Error(`${a} + ${b} does not fit in a double-precision number`);
      }
      return {
        content: [{ type: 'text', text: String(sum) }],
        structuredContent: { sum },
      };
    },
  );
}
