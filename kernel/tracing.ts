import {
  type Attributes,
  type Context,
  context,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * Tracing, on the OpenTelemetry API only. Without an SDK (no `OTEL_*` exporter configured, see
 * runtime/telemetry.ts) every span here is a non-recording one that costs next to nothing, and a
 * caller's `traceparent` still travels on unchanged: into event metadata, NATS headers and the `_meta`
 * of requests sent upstream.
 *
 * W3C trace context is read and written here, with one rule for the value (version 00, a 32-hex trace
 * id and a 16-hex span id that are not all zeros, two hex flags): anything else from outside is
 * ignored, as the W3C spec asks, never stored and never an error.
 */

export { SpanKind };

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The tracer every module of Switchyard uses. */
export function tracer() {
  return trace.getTracer('switchyard');
}

/** A `traceparent` value as a remote span context, or undefined when it is not a valid one. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true };
}

/** The `traceparent` of a span context (undefined for an invalid one). */
export function formatTraceparent(sc: SpanContext | undefined): string | undefined {
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

/** A valid `traceparent` as given, or undefined: what an edge keeps of a header. */
export function validTraceparent(value: unknown): string | undefined {
  return parseTraceparent(value) ? (value as string) : undefined;
}

/** The `traceparent` of the span active here, if there is one. */
export function activeTraceparent(): string | undefined {
  return formatTraceparent(trace.getActiveSpan()?.spanContext());
}

/**
 * The context a new span hangs off: the active one when a span is active (in-process parentage), or
 * else the remote parent named by `traceparent` (a header, an event's metadata), or else the root.
 */
export function parentContext(traceparent?: string | undefined): Context {
  const active = context.active();
  if (trace.getSpan(active)) return active;
  const remote = parseTraceparent(traceparent);
  return remote ? trace.setSpanContext(active, remote) : active;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** A remote parent, used when no span is active here. */
  traceparent?: string | undefined;
  /**
   * A remote parent that wins over the active span (an MCP request's `_meta.traceparent`: the
   * client's own call is the parent); the active span, when there is one, becomes a link.
   */
  remoteParent?: string | undefined;
}

/**
 * Runs `fn` inside a new span, active for everything `fn` awaits: an error is recorded on the span
 * (its message, not its stack) and thrown on; the span ends when `fn` settles.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const remote = parseTraceparent(options.remoteParent);
  const active = trace.getActiveSpan()?.spanContext();
  const parent = remote ? trace.setSpanContext(context.active(), remote) : parentContext(options.traceparent);
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes && { attributes: options.attributes }),
      ...(remote && active && { links: [{ context: active }] }),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (e) {
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** Marks a span failed with an error's message (never a stack or an error's data: they may hold secrets). */
export function failSpan(span: Span, e: unknown): void {
  const code = (e as { code?: unknown } | null)?.code;
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof code === 'string' ? code : e instanceof Error ? e.name : 'error',
  });
}

/** The `traceparent` of a span this process started: what goes into headers and metadata. */
export function traceparentOf(span: Span): string | undefined {
  return formatTraceparent(span.spanContext());
}

/** The most traces one batch reports spans into (a batch of a thousand calls' events is not a thousand spans). */
const MAX_BATCH_TRACES = 64;

/**
 * Work done on a batch of events at once (the relay's publish, a projection's transaction), shown in
 * the trace of each event in it: one span per distinct trace among the events' `traceparent`s, each
 * the child of the span that appended the event, from `startTime` to now. Nothing when no trace is
 * sampled.
 */
export function batchSpans(
  name: string,
  kind: SpanKind,
  traceparents: Iterable<string | undefined>,
  startTime: Date,
  attributes: Attributes,
): void {
  const parents = new Map<string, SpanContext>();
  for (const tp of traceparents) {
    const sc = parseTraceparent(tp);
    if (!sc || (sc.traceFlags & TraceFlags.SAMPLED) === 0 || parents.has(sc.traceId)) continue;
    parents.set(sc.traceId, sc);
    if (parents.size >= MAX_BATCH_TRACES) break;
  }
  if (parents.size === 0) return;
  const end = new Date();
  for (const sc of parents.values()) {
    const parent = trace.setSpanContext(context.active(), sc);
    tracer().startSpan(name, { kind, startTime, attributes }, parent).end(end);
  }
}

/**
 * `{ _meta: { traceparent } }` for the params of an MCP request sent on from inside a span (MCP's
 * OpenTelemetry conventions carry trace context in `params._meta`), or nothing outside one.
 */
export function mcpTraceMeta(): { _meta?: { traceparent: string } } {
  const traceparent = activeTraceparent();
  return traceparent ? { _meta: { traceparent } } : {};
}
