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
  /** As served: hidden tools left out, overrides applied (settings.tools). */
  tools: Tool[];
  /** Served name → the upstream's own name, for the tools served renamed. */
  toolOrigins?: Readonly<Record<string, string>>;
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
