import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

const MAX_TEXT_LENGTH = 1_000_000;

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export interface TextStats {
  words: number;
  characters: number;
  lines: number;
}

/**
 * Counts words the way people do in any script (Intl.Segmenter, not splitting on spaces), and
 * characters as user-perceived characters (so "é" written as e + combining accent, or an emoji
 * with a skin tone, counts once).
 */
export function textStats(text: string): TextStats {
  let words = 0;
  for (const segment of wordSegmenter.segment(text)) {
    if (segment.isWordLike) words++;
  }
  let characters = 0;
  for (const _ of graphemeSegmenter.segment(text)) characters++;
  const lines = text === '' ? 0 : text.split(/\r\n|\r|\n/).length;
  return { words, characters, lines };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function registerWordCount(server: McpServer): void {
  server.registerTool(
    'word_count',
    {
      title: 'Count words',
      description: 'Counts the words, characters and lines of a text.',
      inputSchema: {
        text: z.string().max(MAX_TEXT_LENGTH).describe('The text to measure'),
      },
      outputSchema: {
        words: z.number().int().describe('Number of words'),
        characters: z.number().int().describe('Number of user-perceived characters'),
        lines: z.number().int().describe('Number of lines (0 for an empty text)'),
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ text }) => {
      const stats = textStats(text);
      return {
        content: [
          {
            type: 'text',
            text: `${plural(stats.words, 'word')}, ${plural(stats.characters, 'character')}, ${plural(stats.lines, 'line')}`,
          },
        ],
        structuredContent: { ...stats },
      };
    },
  );
}
