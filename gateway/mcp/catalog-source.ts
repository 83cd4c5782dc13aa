import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** One enabled server as the MCP endpoints see it: its discovered catalog. */
export interface CatalogServer {
  serverId: string;
  name: string;
  /** Whose server it is: authorization decides per server and tool with these. */
  tenant: string;
  owner: string;
  capabilities: Record<string, unknown>;
  instructions: string | undefined;
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

/** Read side for the MCP endpoints (the catalog projection); never calls an upstream. */
export interface CatalogSource {
  /** Every enabled server with its last discovered catalog, ordered by name. */
  enabledServers(): Promise<CatalogServer[]>;
  /** One enabled server by name. */
  serverByName(name: string): Promise<CatalogServer | undefined>;
}
