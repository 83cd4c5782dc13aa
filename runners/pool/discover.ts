import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../kernel/errors.ts';
import type { Catalog } from '../upstream.port.ts';
import type { Connection } from './connection.ts';

/** A server that keeps handing out cursors is broken, or hostile; stop listening at some point. */
const MAX_PAGES = 1000;

/** Follows `nextCursor` until the last page; a repeated cursor is an error, not a loop. */
async function allPages<T>(
  what: string,
  list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await list(cursor);
    items.push(...result.items);
    if (!result.nextCursor) return items;
    if (seen.has(result.nextCursor)) {
      throw new AppError('upstream', 'UPSTREAM.BAD_PAGINATION', `${what}: the server repeated a cursor`);
    }
    seen.add(result.nextCursor);
    cursor = result.nextCursor;
  }
  throw new AppError('upstream', 'UPSTREAM.BAD_PAGINATION', `${what}: more than ${MAX_PAGES} pages`);
}

/** Lists every page of what the server's capabilities advertise. */
export async function listCatalog(
  client: Client,
  connection: Connection,
  request: RequestOptions,
): Promise<Catalog> {
  const capabilities = client.getServerCapabilities() ?? {};
  const page = (cursor: string | undefined) => (cursor === undefined ? {} : { cursor });
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    capabilities.tools
      ? allPages('tools/list', async (c) => {
          const r = await client.listTools(page(c), request);
          return { items: r.tools, nextCursor: r.nextCursor };
        })
      : [],
    capabilities.resources
      ? allPages('resources/list', async (c) => {
          const r = await client.listResources(page(c), request);
          return { items: r.resources, nextCursor: r.nextCursor };
        })
      : [],
    capabilities.resources
      ? allPages('resources/templates/list', async (c) => {
          const r = await client.listResourceTemplates(page(c), request);
          return { items: r.resourceTemplates, nextCursor: r.nextCursor };
        }).catch((e: unknown) => {
          // Templates came later than resources; a server that predates them has none.
          if (e instanceof McpError && e.code === ErrorCode.MethodNotFound) return [];
          throw e;
        })
      : [],
    capabilities.prompts
      ? allPages('prompts/list', async (c) => {
          const r = await client.listPrompts(page(c), request);
          return { items: r.prompts, nextCursor: r.nextCursor };
        })
      : [],
  ]);
  const info = client.getServerVersion();
  return {
    serverInfo: info ? { name: info.name, version: info.version } : undefined,
    protocolVersion: connection.protocolVersion,
    instructions: client.getInstructions(),
    capabilities: capabilities as Record<string, unknown>,
    tools,
    resources,
    resourceTemplates,
    prompts,
  };
}
