import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { CatalogServer } from './catalog-source.ts';

export const SearchToolsInput = z
  .object({
    query: z.string().trim().min(1).max(200).describe('words to look for, e.g. "create issue"'),
    limit: z.number().int().min(1).max(50).optional().describe('most matches to answer (default 10)'),
  })
  .strict();

export interface ToolMatch {
  /** The name to call it by on the endpoint that asked. */
  name: string;
  server: string;
  /** The server's own name for it. */
  tool: string;
  title?: string;
  description?: string;
  inputSchema: Tool['inputSchema'];
}

export interface SearchScope {
  /** Whether the caller may call this tool (only those are found). */
  mayCall(server: CatalogServer, tool: string): boolean;
  /** The endpoint's name for a server's tool; undefined when the endpoint does not serve it. */
  nameOf(server: string, tool: string): string | undefined;
}

/** Longest description answered per match: a search answer stays small whatever the catalog holds. */
const MAX_DESCRIPTION = 500;

/** Lower-case words of a text: split at anything not a letter or digit, and at camelCase humps. */
export function wordsOf(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

/**
 * How well one query word matches a field's words: the whole word, else the start of one (a word
 * of three letters or more: "repo" finds "repository").
 */
function fieldScore(word: string, field: readonly string[], weight: number): number {
  if (field.includes(word)) return weight;
  if (word.length >= 3 && field.some((w) => w.startsWith(word))) return weight / 2;
  return 0;
}

/**
 * The tools among `servers` that the words of `query` find, best first: a tool scores per query word
 * on its name (most), title, description and server name, and the tools that match more of the
 * words come first. Only tools the caller may call, under the names the endpoint gives them.
 */
export function searchTools(
  servers: readonly CatalogServer[],
  query: string,
  limit: number,
  scope: SearchScope,
): ToolMatch[] {
  const words = [...new Set(wordsOf(query))];
  if (words.length === 0) return [];
  const scored: Array<{ match: ToolMatch; matched: number; score: number }> = [];
  for (const s of servers) {
    const serverWords = wordsOf(s.name);
    for (const t of s.tools) {
      const fields = [
        { words: wordsOf(t.name), weight: 5 },
        { words: wordsOf(t.title ?? t.annotations?.title), weight: 3 },
        { words: wordsOf(t.description), weight: 1 },
        { words: serverWords, weight: 1 },
      ];
      let matched = 0;
      let score = 0;
      for (const w of words) {
        const best = Math.max(...fields.map((f) => fieldScore(w, f.words, f.weight)));
        if (best > 0) matched++;
        score += best;
      }
      if (matched === 0 || !scope.mayCall(s, t.name)) continue;
      const name = scope.nameOf(s.name, t.name);
      if (name === undefined) continue;
      const title = t.title ?? t.annotations?.title;
      scored.push({
        match: {
          name,
          server: s.name,
          tool: t.name,
          ...(title !== undefined && { title }),
          ...(t.description !== undefined && { description: t.description.slice(0, MAX_DESCRIPTION) }),
          inputSchema: t.inputSchema,
        },
        matched,
        score,
      });
    }
  }
  scored.sort(
    (a, b) => b.matched - a.matched || b.score - a.score || a.match.name.localeCompare(b.match.name),
  );
  return scored.slice(0, limit).map((s) => s.match);
}
