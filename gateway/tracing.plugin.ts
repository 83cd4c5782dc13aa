import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parentContext, SpanKind, traceparentOf, tracer, validTraceparent } from '../kernel/tracing.ts';

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * A server span per HTTP request, continuing the caller's `traceparent` (a valid one; anything else
 * starts a new trace), active for the request's whole life: hooks, the handler, an MCP session's
 * message handling, the commands and tool calls they make. Named by method and route template, never
 * by the URL itself (its query may hold a secret, its path an unbounded id).
 */
export const tracingPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request, reply, done) => {
      const parent = parentContext(validTraceparent(request.headers.traceparent));
      const route = request.routeOptions.url ?? 'unmatched';
      const span = tracer().startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'http.route': route,
            'switchyard.correlation_id': String(request.id),
          },
        },
        parent,
      );
      spans.set(request, span);
      if (span.isRecording()) reply.header('traceresponse', traceparentOf(span));
      context.with(trace.setSpan(parent, span), done);
    });
    app.addHook('onResponse', async (request, reply) => {
      const span = ended(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    app.addHook('onRequestAbort', async (request) => {
      const span = ended(request);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted by the client' });
      span?.end();
    });
  },
  { name: 'switchyard-tracing' },
);

/** The request's span, taken: whichever of response and abort comes first ends it. */
function ended(request: FastifyRequest): Span | undefined {
  const span = spans.get(request);
  spans.delete(request);
  return span;
}
