import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { SERVER_NAME } from '../about.js';

export const GUIDE_URI_TEMPLATE = `${SERVER_NAME}://guides/{topic}`;

interface Guide {
  title: string;
  description: string;
  text: string;
}

/** Short guides, served as Markdown. Replace them with your own documents, rows or files. */
export const GUIDES: Readonly<Record<string, Guide>> = {
  tools: {
    title: 'Using the tools',
    description: 'What each tool does and what it returns.',
    text: `# Tools

- \`add\` { a, b } returns the sum as text and as \`structuredContent.sum\`.
- \`word_count\` { text } returns \`words\`, \`characters\` and \`lines\`.
- \`echo\` { message } returns the message unchanged.
- \`countdown\` { from, intervalMs? } counts down, sending a progress notification per step when
  the request carries a progress token; cancelling the request stops it.

Invalid arguments and failures come back as results with \`isError: true\` and a message.
`,
  },
  transports: {
    title: 'Transports',
    description: 'How to reach this server: stdio or Streamable HTTP.',
    text: `# Transports

- **stdio** (default): the client starts \`${SERVER_NAME}\` and speaks JSON-RPC over its stdin and
  stdout. Logs go to stderr.
- **Streamable HTTP**: start it with \`--http\` (or \`MCP_TRANSPORT=http\`); it listens on
  \`/mcp\`, gives every client a session (\`Mcp-Session-Id\`), and closes idle sessions.
`,
  },
  switchyard: {
    title: 'Running behind Switchyard',
    description: 'Registering this server with a Switchyard gateway.',
    text: `# Behind Switchyard

Register the server once (as a stdio command or as a Streamable HTTP URL) and every MCP client of
the gateway sees its tools as \`${SERVER_NAME}__<tool>\`, with every call recorded in the event log.
See the README of this project for the exact request.
`,
  },
};

export function guideUri(topic: string): string {
  return GUIDE_URI_TEMPLATE.replace('{topic}', encodeURIComponent(topic));
}

/**
 * A resource template: one URI pattern standing for many resources. `list` tells clients which
 * concrete resources exist (they appear in resources/list), `complete` suggests values for a
 * variable as the user types it (completion/complete).
 */
export function registerGuides(server: McpServer): void {
  const topics = Object.keys(GUIDES);
  server.registerResource(
    'guide',
    new ResourceTemplate(GUIDE_URI_TEMPLATE, {
      list: async () => ({
        resources: Object.entries(GUIDES).map(([topic, guide]) => ({
          uri: guideUri(topic),
          name: `guide-${topic}`,
          title: guide.title,
          description: guide.description,
          mimeType: 'text/markdown',
        })),
      }),
      complete: {
        topic: (value) => topics.filter((topic) => topic.startsWith(value)),
      },
    }),
    {
      title: 'Guides',
      description: 'Short guides about this server, by topic.',
      mimeType: 'text/markdown',
    },
    async (uri, { topic }) => {
      const name = decodeURIComponent(String(topic));
      const guide = Object.hasOwn(GUIDES, name) ? GUIDES[name] : undefined;
      if (!guide) {
        throw new McpError(ErrorCode.InvalidParams, `No guide "${name}"; topics: ${topics.join(', ')}`);
      }
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: guide.text }] };
    },
  );
}
