import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { uuidV5 } from '../../kernel/ids.ts';
import { validTraceparent } from '../../kernel/tracing.ts';
import type { Progress } from '../../sagas/template-sync/sync-source.ts';
import type { OperationContext } from '../../templates/service.ts';
import { redactedUrl, toProblem } from '../error-mapping.ts';
import { actorMeta, tenantScopeOf } from '../request-context.ts';

/**
 * Long operations over REST (generate, analyse, sync): who asks, and — for a client that asks for
 * it with `Accept: application/x-ndjson` — how far the operation got, as it goes.
 */

export const NDJSON = 'application/x-ndjson';

/** One line of a progress stream: progress reports, then exactly one result or error line. */
export type ProgressLine =
  | ({ type: 'progress' } & Progress)
  | { type: 'result'; status: number; location?: string; body: unknown }
  | { type: 'error'; status: number; body: unknown };

/**
 * The context of an operation asked for by `request`. An `Idempotency-Key` is scoped to the actor
 * and the operation (as for server commands), so one client's key never replays another's request.
 */
export function operationContextOf(request: FastifyRequest, operation: string): OperationContext {
  const who = actorMeta(request.principal);
  const key = request.headers['idempotency-key'];
  const idemKey = Array.isArray(key) ? key[0] : key;
  const traceparent = request.headers.traceparent;
  return {
    actor: who.actor,
    tenant: who.tenant,
    credential: who.credential,
    scope: tenantScopeOf(request.principal),
    correlationId: String(request.id),
    traceparent: validTraceparent(traceparent),
    requestId: idemKey ? uuidV5(`${who.actor}\n${operation}\n${idemKey}`) : undefined,
  };
}

/** True when the client listed `application/x-ndjson` in Accept (and did not refuse it with q=0). */
export function wantsProgressStream(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type !== NDJSON) return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

const jsonLine = (line: ProgressLine): string =>
  `${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`;

export interface OperationAnswer<T> {
  status: number;
  /** Location of what the operation created, if it created something. */
  location?: (body: T) => string;
}

/**
 * Runs an operation and answers it: plainly (`status`, JSON body, `Location` when given), or as a
 * progress stream when the client asked for one (see {@link streamOperation}).
 */
export async function runOperation<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: OperationContext,
  run: (ctx: OperationContext) => Promise<T>,
  answer: OperationAnswer<T>,
): Promise<FastifyReply> {
  if (wantsProgressStream(request)) {
    await streamOperation(request, reply, async (hooks) => {
      const result = await run({ ...ctx, ...hooks });
      // Shaped by the route's response schema, as the plain answer would be.
      const serialize = reply.getSerializationFunction(String(answer.status));
      const body: unknown = serialize ? JSON.parse(serialize(result as Record<string, unknown>)) : result;
      return { status: answer.status, body, ...(answer.location && { location: answer.location(result) }) };
    });
    return reply;
  }
  const body = await run(ctx);
  if (answer.location) reply.header('location', answer.location(body));
  return reply.status(answer.status).send(body);
}

/**
 * Streams a long operation as newline-delimited JSON: a `progress` line per report, then one
 * `result` line (the status and body the plain request would have answered) or one `error` line
 * (status and RFC 7807 body, from the one error mapping). The HTTP status is 200 once the stream
 * has begun; the last line carries the outcome. A client that disconnects aborts the operation.
 */
export async function streamOperation(
  request: FastifyRequest,
  reply: FastifyReply,
  run: (hooks: { onProgress: (p: Progress) => void; signal: AbortSignal }) => Promise<{
    status: number;
    location?: string;
    body: unknown;
  }>,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  const aborter = new AbortController();
  const open = () => !res.destroyed && !res.writableEnded;
  res.on('close', () => {
    if (!res.writableEnded) aborter.abort(new Error('the client disconnected'));
  });
  res.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': `${NDJSON}; charset=utf-8`,
    'cache-control': 'no-store',
    // A buffering proxy (nginx) would hold the progress lines back until the end.
    'x-accel-buffering': 'no',
  });
  const write = (line: ProgressLine) => {
    if (open()) res.write(jsonLine(line));
  };
  let last: ProgressLine;
  try {
    const outcome = await run({
      onProgress: (p) => write({ type: 'progress', ...p }),
      signal: aborter.signal,
    });
    last = { type: 'result', ...outcome };
  } catch (error) {
    const body = toProblem(error);
    body.instance = redactedUrl(request.url);
    body.correlationId = String(request.id);
    if (aborter.signal.aborted) request.log.info({ code: body.code }, 'operation stopped: the client left');
    else if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status: body.status }, 'request rejected');
    last = { type: 'error', status: body.status, body };
  }
  if (open()) res.end(jsonLine(last));
}
