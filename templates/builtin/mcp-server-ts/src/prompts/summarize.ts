import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export const SUMMARY_STYLES = ['one-paragraph', 'bullet-points', 'one-sentence'] as const;
type SummaryStyle = (typeof SUMMARY_STYLES)[number];

const STYLE_INSTRUCTIONS: Record<SummaryStyle, string> = {
  'one-paragraph': 'in one short paragraph',
  'bullet-points': 'as three to five bullet points',
  'one-sentence': 'in a single sentence',
};

/**
 * A prompt: a reusable message template a user picks in the client (often as a slash command).
 * Prompt arguments are always strings; `completable` lets clients suggest values while typing.
 */
export function registerSummarize(server: McpServer): void {
  server.registerPrompt(
    'summarize',
    {
      title: 'Summarize a text',
      description: 'Asks the model to summarize a text in a chosen style.',
      argsSchema: {
        text: z.string().describe('The text to summarize'),
        style: completable(
          z.enum(SUMMARY_STYLES).optional().describe(`How to summarize: ${SUMMARY_STYLES.join(', ')}`),
          (value) => SUMMARY_STYLES.filter((style) => style.startsWith(value ?? '')),
        ),
      },
    },
    ({ text, style }) => ({
      description: `Summary ${STYLE_INSTRUCTIONS[style ?? 'one-paragraph']}`,
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `Summarize the following text ${STYLE_INSTRUCTIONS[style ?? 'one-paragraph']}. Keep names, numbers and conclusions; leave out examples and asides.\n\n${text}`,
          },
        },
      ],
    }),
  );
}
