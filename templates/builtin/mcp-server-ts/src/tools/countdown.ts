import { setTimeout as sleep } from 'node:timers/promises';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/**
 * `countdown`: the pattern for long-running tools.
 *
 * - Progress: when the caller sent a `progressToken` (the SDK client does so when it is given an
 *   `onprogress` callback), each step sends `notifications/progress` tied to this request.
 * - Cancellation: `extra.signal` aborts when the client cancels the request or the connection
 *   closes; passing it to every wait makes the tool stop promptly instead of running on unseen.
 */
export function registerCountdown(server: McpServer): void {
  server.registerTool(
    'countdown',
    {
      title: 'Count down',
      description: 'Counts down from a number, one step per interval, reporting progress at each step.',
      inputSchema: {
        from: z.number().int().min(1).max(100).describe('Where to start counting down'),
        intervalMs: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(1000)
          .describe('Milliseconds between two steps (default 1000)'),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ from, intervalMs }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= from; step++) {
        await sleep(intervalMs, undefined, { signal: extra.signal });
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: from, message: `${from - step} to go` },
          });
        }
      }
      return { content: [{ type: 'text', text: `Counted down from ${from}.` }] };
    },
  );
}
