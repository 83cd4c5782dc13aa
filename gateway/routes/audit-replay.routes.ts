import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  answerPage,
  answers,
  type CallRecord,
  CHANGE_CATEGORIES,
  type ChangeRecord,
  callsQuery,
  changesQuery,
  type LogQuery,
  type OpenSealed,
  serverAsOf,
} from '../../application/audit/index.ts';
import { AppError } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { tenantScopeOf } from '../request-context.ts';
import { type AuditFormat, auditFormatOf, type CsvColumn, sendRows } from './audit-export.ts';
import { positionString } from './shared.ts';

const isoTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 time, e.g. 2026-12-07T08:00:00Z',
});
const name = z.string().min(1).max(300);
/** A JSON page holds at most this many answers; NDJSON and CSV stream any number. */
const MAX_PAGE = 1000;
/** Events of the narrowed log read for one JSON page at most (see answerPage). */
const SCAN_BUDGET = 20_000;

const paging = {
  after: positionString.optional().describe('Cursor: answers strictly after this global position'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000_000)
    .optional()
    .describe(
      `At most this many answers (JSON: default 100, at most ${MAX_PAGE}; NDJSON/CSV: all by default)`,
    ),
  format: z
    .enum(['json', 'ndjson', 'csv'])
    .optional()
    .describe(
      'json (a page), ndjson or csv (streamed); or ask with Accept: application/x-ndjson or text/csv',
    ),
  from: isoTime.optional().describe('Recorded at or after this time'),
  to: isoTime.optional().describe('Recorded before this time'),
};

const callsQuerystring = z
  .object({
    ...paging,
    actor: name.optional().describe('Only calls by this principal id'),
    server: name
      .optional()
      .describe('Only calls to this server (its name at the time of the call, or its id)'),
    tool: name.optional().describe('Only calls of this tool (upstream name, or the name it was called by)'),
  })
  .strict();

const changesQuerystring = z
  .object({
    ...paging,
    actor: name.optional().describe('Only changes by this principal id'),
    category: z
      .string()
      .max(300)
      .transform((s) =>
        s
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(CHANGE_CATEGORIES as [string, ...string[]])))
      .optional()
      .describe(`Comma-separated, among: ${CHANGE_CATEGORIES.join(', ')}`),
    stream: name.optional().describe('Only one stream, e.g. server-<uuid>'),
    system: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('Include what Switchyard did on its own (system:* actors); default false'),
  })
  .strict();

const serverParams = z.object({ name: name.describe('The server’s name at that time, or its id') }).strict();
const serverQuerystring = z
  .object({ at: isoTime.describe('As of this time (recorded time of events)') })
  .strict();

const CALL_COLUMNS: CsvColumn<CallRecord>[] = (
  [
    'position',
    'recordedAt',
    'callId',
    'tenant',
    'actor',
    'credential',
    'via',
    'sessionId',
    'serverId',
    'serverName',
    'tool',
    'servedAs',
    'outcome',
    'isError',
    'errorCode',
    'errorMessage',
    'durationMs',
    'resultBytes',
    'resultHash',
    'finishedAt',
    'correlationId',
    'arguments',
  ] as const
).map((k) => ({ header: k, cell: (r: CallRecord) => r[k] }));

const CHANGE_COLUMNS: CsvColumn<ChangeRecord>[] = (
  [
    'position',
    'recordedAt',
    'actor',
    'tenant',
    'credential',
    'stream',
    'category',
    'subject',
    'name',
    'type',
    'revision',
    'correlationId',
    'data',
  ] as const
).map((k) => ({ header: k, cell: (r: ChangeRecord) => r[k] }));

interface Paging {
  after?: bigint | undefined;
  limit?: number | undefined;
  format?: AuditFormat | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

function windowOf(q: Paging): { from?: Date; to?: Date } {
  const from = q.from === undefined ? undefined : new Date(q.from);
  const to = q.to === undefined ? undefined : new Date(q.to);
  if (from && to && to <= from) {
    throw new AppError('validation', 'AUDIT.BAD_RANGE', '`to` must be later than `from`');
  }
  return { ...(from && { from }), ...(to && { to }) };
}

/** One JSON page, or every answer (up to `limit`) streamed: the same question either way. */
async function answer<T>(
  store: EventStore,
  request: FastifyRequest,
  reply: FastifyReply,
  q: Paging,
  kind: string,
  query: LogQuery<T>,
  columns: readonly CsvColumn<T>[],
) {
  const format = auditFormatOf(request, q.format);
  const after = q.after ?? 0n;
  if (format === 'json') {
    const limit = q.limit ?? 100;
    if (limit > MAX_PAGE) {
      throw new AppError(
        'validation',
        'AUDIT.BAD_LIMIT',
        `a JSON page holds at most ${MAX_PAGE} answers: page with \`after\`, or export as ndjson or csv`,
      );
    }
    const page = await answerPage(store, query, { after, limit, scanBudget: SCAN_BUDGET });
    return { items: page.rows, next: page.next.toString(), hasMore: page.hasMore };
  }
  const limit = q.limit;
  async function* rows(): AsyncGenerator<T> {
    let n = 0;
    if (limit === 0) return;
    for await (const { row } of answers(store, query, after)) {
      yield row;
      if (++n === limit) return;
    }
  }
  return sendRows(reply, format, `audit-${kind}`, rows(), columns);
}

/**
 * /api/v1/audit/servers|calls|changes: questions answered from the log itself (not the read
 * models), scoped to the caller's tenant (administrators: every tenant). docs/audit.md says what
 * each reads and costs.
 */
/** `open`: opens the sealed arguments of calls (the caller's data key; `[erased]` once erased). */
export function auditReplayRoutes(store: EventStore, open?: OpenSealed): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/audit/servers/:name',
      {
        schema: {
          tags: ['audit'],
          summary: 'A server as of a time: its configuration (secrets redacted), tools and health',
          description:
            'Folds the server’s own streams (server, catalog, health) up to `at` with the domains’ deciders. A name is the server that held it at that time. 404 when no such server existed then.',
          params: serverParams,
          querystring: serverQuerystring,
        },
      },
      async (request) => {
        const { tenant } = tenantScopeOf(request.principal);
        const found = await serverAsOf(store, {
          server: request.params.name,
          at: new Date(request.query.at),
          tenant,
        });
        if (!found) {
          throw new AppError(
            'not_found',
            'AUDIT.SERVER_NOT_FOUND',
            `no server ${request.params.name} as of ${request.query.at}`,
          );
        }
        return found;
      },
    );

    app.get(
      '/audit/calls',
      {
        schema: {
          tags: ['audit'],
          summary: 'Every tool call, by actor, server, tool and time: redacted arguments and outcome',
          description:
            'Reads ToolCallStarted events from the log (by the event-type index) after `after`, keeps those that match, and reads each call’s own stream for its outcome. JSON answers a page (`next` is the cursor, `hasMore`); NDJSON and CSV stream every answer. Times are the events’ recorded times: `from` inclusive, `to` exclusive.',
          querystring: callsQuerystring,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const query = callsQuery(
          store,
          {
            ...windowOf(q),
            tenant: tenantScopeOf(request.principal).tenant,
            actor: q.actor,
            server: q.server,
            tool: q.tool,
          },
          open,
        );
        return answer(store, request, reply, q, 'calls', query, CALL_COLUMNS);
      },
    );

    app.get(
      '/audit/changes',
      {
        schema: {
          tags: ['audit'],
          summary: 'Who changed what, when: the events of servers, access, toolsets, sources, deployments',
          description:
            'Reads the change categories of the log (by the category index) after `after`; event data redacted (a server’s transport as the servers API shows it, sealed values and credential shapes hidden). Paged and exported as for /audit/calls.',
          querystring: changesQuerystring,
        },
      },
      async (request, reply) => {
        const q = request.query;
        const query = changesQuery(
          {
            ...windowOf(q),
            tenant: tenantScopeOf(request.principal).tenant,
            actor: q.actor,
            categories: q.category,
            stream: q.stream,
            includeSystem: q.system,
          },
          open,
        );
        return answer(store, request, reply, q, 'changes', query, CHANGE_COLUMNS);
      },
    );
  };
}
