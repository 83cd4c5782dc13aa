import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * The platform's own tools on the aggregate endpoint (`switchyard__…`): what an agent needs to see
 * the registry it is talking through.
 */
export interface PlatformTools {
  tools(): Tool[];
  has(name: string): boolean;
  call(name: string, args: Record<string, unknown>, context: { actor: string }): Promise<CallToolResult>;
}

export interface PlatformToolDeps {
  listServers: () => Promise<unknown>;
  prefix: string;
}

export function createPlatformTools(deps: PlatformToolDeps): PlatformTools {
  const listName = `${deps.prefix}list_servers`;
  const tools: Tool[] = [
    {
      name: listName,
      title: 'List MCP servers',
      description:
        'Lists the MCP servers registered in Switchyard: name, transport, enabled, health and tags.',
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
  ];
  return {
    tools: () => tools,
    has: (name) => name === listName,
    async call(name) {
      if (name === listName) {
        const servers = await deps.listServers();
        return {
          content: [{ type: 'text', text: JSON.stringify(servers, null, 2) }],
          structuredContent: { servers } as Record<string, unknown>,
        };
      }
      return { content: [{ type: 'text', text: `unknown platform tool ${name}` }], isError: true };
    },
  };
}
