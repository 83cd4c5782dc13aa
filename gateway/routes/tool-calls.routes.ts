import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { findServerIdByName } from '../../projections/servers/servers.queries.ts';
import {
  getToolCall,
  type ListToolCallsOptions,
  listToolCalls,
} from '../../projections/tool-calls/tool-calls.queries.ts';
import { windowStats } from '../../projections/tool-stats/index.ts';
import type { GatewayDeps } from '../deps.ts';
import { tenantScopeOf } from '../request-context.ts';
import { problemResponses } from './shared.ts';

/** An instant: a full ISO 8601 date-time with its offset, or a date (midnight UTC). */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date-time with offset (2026-01-02T03:04:05Z) or a date (2026-01-02)',
  })
  .transform((s) => new Date(s));

const listQuery = z
  .object({
    server: z.string().min(1).max(128).optional().describe('Server id (uuid) or name'),
    tool: z.string().min(1).max(512).optional().describe("The upstream tool's own name"),
    status: z.enum(['running', 'succeeded', 'failed', 'abandoned']).optional(),
    actor: z.string().min(1).max(256).optional().describe('Who called (as recorded on the call)'),
    from: instant.optional().describe('Calls started at or after this instant'),
    to: instant.optional().describe('Calls started before this instant'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(300).optional().describe('nextCursor of the previous page'),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  });

const idParams = z.object({ id: z.string().min(1).max(128).describe('Tool call id (uuid)') });

/** A call as the API answers it (ToolCallView), for the OpenAPI document and the serializer. */
const toolCallSchema = z.object({
  id: z.string(),
  serverId: z.string(),
  serverName: z.string().describe("The server's name when the call was made"),
  tool: z.string(),
  actor: z.string(),
  tenant: z.string().describe('The tenant the call belongs to'),
  via: z.enum(['mcp', 'rest']),
  sessionId: z.string().nullable(),
  status: z.enum(['running', 'succeeded', 'failed', 'abandoned']),
  isError: z.boolean().describe('The tool reported an error (isError: true); the call itself succeeded'),
  arguments: z.record(z.string(), z.unknown()).describe('As recorded: secret-looking fields redacted'),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  resultBytes: z.number().nullable(),
  resultHash: z.string().nullable().describe("sha256 (hex) of the result's JSON"),
  error: z.object({ kind: z.string(), code: z.string(), message: z.string() }).nullable(),
  abandonReason: z.string().nullable(),
  revision: z.string(),
  position: z.string(),
});

const toolCallPageSchema = z.object({
  items: z.array(toolCallSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next (older) page; null on the last'),
});

/**
 * /api/v1/tool-calls: the audit log of tool calls (by MCP or REST), from the `tool_calls` read
 * model — newest first, filtered, a page at a time with an opaque cursor.
 */
export function toolCallsRoutes(deps: Pick<GatewayDeps, 'readDb'>): FastifyPluginAsyncZod {
  // The route table decided toolcall.read on the caller's tenant; the queries see that tenant only
  // (every tenant for administrators).
  return async (app) => {
    /**
     * A uuid filters by server id; a name, by the active server holding it (all its calls, whatever
     * it was called then), or else by the name recorded on calls (a removed server's history).
     */
    async function serverFilter(
      server: string,
    ): Promise<Pick<ListToolCallsOptions, 'serverId' | 'serverName'>> {
      if (isUuid(server)) return { serverId: server };
      const id = await findServerIdByName(deps.readDb, server);
      return id ? { serverId: id } : { serverName: server };
    }

    app.get(
      '/tool-calls',
      {
        schema: {
          tags: ['tool-calls'],
          summary: 'List tool calls (the audit log)',
          description:
            "Newest first. Filters combine (AND). Page with `cursor` = the previous answer's `nextCursor` (null on the last page). Arguments are shown as recorded: secret-looking fields redacted.",
          querystring: listQuery,
          response: { 200: toolCallPageSchema, ...problemResponses([400]) },
        },
      },
      async (request) => {
        const q = request.query;
        return listToolCalls(deps.readDb, {
          ...tenantScopeOf(request.principal),
          ...(q.server !== undefined && (await serverFilter(q.server))),
          tool: q.tool,
          status: q.status,
          actor: q.actor,
          from: q.from,
          to: q.to,
          limit: q.limit,
          cursor: q.cursor,
        });
      },
    );

    app.get(
      '/tool-calls/stats',
      {
        schema: {
          tags: ['tool-calls'],
          summary: 'Tool-call statistics of a time window: per server, and the slowest tools',
          description:
            'Calls started at or after `since` (default: an hour ago): per server, finished calls, errors (failed, abandoned, or isError results), error rate, running, mean, p50 and p95 duration (ms); and the `tools` slowest tools by p95. Of the caller’s tenant’s calls (every tenant’s for administrators).',
          querystring: z
            .object({
              since: instant.optional().describe('Only calls started at or after (default: an hour ago)'),
              tools: z.coerce.number().int().min(0).max(100).default(10).describe('How many slowest tools'),
            })
            .strict(),
        },
      },
      async (request) =>
        windowStats(deps.readDb, {
          ...tenantScopeOf(request.principal),
          since: request.query.since ?? new Date(Date.now() - 3600_000),
          tools: request.query.tools,
        }),
    );

    app.get(
      '/tool-calls/:id',
      {
        schema: {
          tags: ['tool-calls'],
          summary: 'Get one tool call',
          params: idParams,
          response: { 200: toolCallSchema, ...problemResponses([404]) },
        },
      },
      async (request) => {
        const call = await getToolCall(deps.readDb, request.params.id, tenantScopeOf(request.principal));
        if (!call) {
          throw new AppError('not_found', 'TOOLCALL.NOT_FOUND', `no tool call ${request.params.id}`, {
            callId: request.params.id,
          });
        }
        return call;
      },
    );
  };
}
