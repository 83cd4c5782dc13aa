import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../kernel/errors.ts';
import type { LogCursor, RuntimeViews } from '../../runners/runtime-views.port.ts';
import type { GatewayDeps } from '../deps.ts';
import { redactedUrl, toProblem } from '../error-mapping.ts';
import { NDJSON } from './operations.ts';
import { serverOf } from './server-lookup.ts';
import { problemResponses } from './shared.ts';

const idParams = z.object({ id: z.string().min(1).max(128).describe('Server id (uuid) or name') });

/** The cursor of a logs answer, as the client passes it back: base64url of `{runner: seq}`. */
const cursorSchema = z
  .string()
  .max(4000)
  .transform((s, ctx): LogCursor => {
    try {
      const parsed = z
        .record(z.string().max(100), z.number().int().min(0))
        .parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
      return parsed;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a cursor of this API (pass the `cursor` of an answer)' });
      return z.NEVER;
    }
  });

const encodeCursor = (c: LogCursor) => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

const logsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(2000).default(200).describe('At most the last this many lines'),
  after: cursorSchema.optional().describe('The `cursor` of an earlier answer: only lines since'),
  follow: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: keep the answer open as NDJSON, one line per stderr line as it comes'),
});

/** How often a followed log asks the runners for new lines. */
const FOLLOW_POLL_MS = 1_000;
/** A `{"type":"heartbeat"}` line after this long without one, so proxies keep the stream open. */
const HEARTBEAT_MS = 15_000;

const instanceSchema = z.object({
  runner: z.string().describe('The runner holding the instance'),
  index: z.number(),
  target: z.string().describe('`pid <n>` for a stdio process, the URL (no query) for HTTP'),
  pid: z.number().optional(),
  state: z.enum(['starting', 'healthy', 'unhealthy', 'stopped', 'error']),
  startedAt: z.string().optional(),
  uptimeMs: z.number().nullable(),
  restarts: z.number(),
  lastExit: z.object({ at: z.string(), reason: z.string() }).optional(),
  inFlight: z.number(),
  circuit: z.enum(['closed', 'open', 'half-open']),
  lastError: z.string().optional(),
  callerSessions: z
    .number()
    .optional()
    .describe(
      "stdio, sse: upstream sessions (stdio: processes) open for callers of their own besides the instance's, a spare included",
    ),
});

const lineSchema = z.object({
  runner: z.string(),
  instance: z.number(),
  pid: z.number(),
  seq: z.number(),
  at: z.string(),
  line: z.string(),
});

function viewsOf(deps: Pick<GatewayDeps, 'runtime'>): RuntimeViews {
  if (!deps.runtime) {
    throw new AppError('unavailable', 'RUNTIME.UNAVAILABLE', 'this gateway cannot reach the runners');
  }
  return deps.runtime;
}

/**
 * What the runners hold of a server right now, gathered from every runner (over the bus in
 * distributed mode): `/servers/:id/instances` (processes or sessions: pid, uptime, restarts, last
 * exit, state) and `/servers/:id/logs` (recent stderr, secrets redacted by the runner; `follow=true`
 * streams it as NDJSON).
 */
export function serverRuntimeRoutes(deps: Pick<GatewayDeps, 'readDb' | 'runtime'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/servers/:id/instances',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's running instances, on every runner",
          description:
            'Asked of the runners at the moment (nothing stores it). `unreachable` names runners that did not answer in time: their instances are missing from the list.',
          params: idParams,
          response: {
            200: z.object({
              serverId: z.string(),
              name: z.string(),
              instances: z.array(instanceSchema),
              runners: z.array(z.string()),
              unreachable: z.array(z.string()),
            }),
            ...problemResponses([404, 503]),
          },
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const view = await viewsOf(deps).instances(server.id);
        return { ...view, name: server.name };
      },
    );

    app.get(
      '/servers/:id/logs',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's recent stderr",
          description:
            'The last lines its stdio processes wrote to stderr, oldest first, from every runner hosting it (each keeps the last 500 per server, over restarts). Values of the server\'s environment and token shapes (bearer credentials, API keys, `password=…`) are redacted on the runner, before a line is kept. Pass `cursor` back as `after` for what came since. With `follow=true` the answer is NDJSON that stays open: `{"type":"line",…}` per line as the runners read them (within about a second), `{"type":"heartbeat"}` when quiet.',
          params: idParams,
          querystring: logsQuery,
          response: {
            200: z.object({
              serverId: z.string(),
              name: z.string(),
              lines: z.array(lineSchema),
              cursor: z.string(),
              unreachable: z.array(z.string()),
            }),
            ...problemResponses([400, 404, 503]),
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const server = await serverOf(deps, request, request.params.id);
        const views = viewsOf(deps);
        if (q.follow === 'true') {
          await followLogs(request, reply, views, server.id, q.after, q.limit);
          return reply;
        }
        const view = await views.logs(server.id, {
          limit: q.limit,
          ...(q.after !== undefined && { after: q.after }),
        });
        return {
          serverId: server.id,
          name: server.name,
          lines: view.lines,
          cursor: encodeCursor(view.cursor),
          unreachable: view.unreachable,
        };
      },
    );
  };
}

/** Streams a server's stderr as NDJSON until the client leaves: the last `limit` lines, then new ones. */
async function followLogs(
  request: FastifyRequest,
  reply: FastifyReply,
  views: RuntimeViews,
  serverId: string,
  after: LogCursor | undefined,
  limit: number,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  const left = new AbortController();
  res.on('close', () => left.abort());
  res.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': `${NDJSON}; charset=utf-8`,
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  let lastWrite = Date.now();
  const write = (line: Record<string, unknown>) => {
    if (res.destroyed || res.writableEnded) return;
    lastWrite = Date.now();
    res.write(`${JSON.stringify(line)}\n`);
  };
  let cursor = after;
  try {
    while (!left.signal.aborted) {
      const view = await views.logs(serverId, { limit, ...(cursor !== undefined && { after: cursor }) });
      for (const l of view.lines) write({ type: 'line', ...l });
      cursor = view.cursor;
      if (Date.now() - lastWrite >= HEARTBEAT_MS) write({ type: 'heartbeat' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS);
        left.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  } catch (error) {
    const body = toProblem(error);
    body.instance = redactedUrl(request.url);
    body.correlationId = String(request.id);
    request.log.error({ err: error, serverId }, 'following a server log failed');
    write({ type: 'error', status: body.status, body });
  }
  if (!res.destroyed && !res.writableEnded) res.end();
}
