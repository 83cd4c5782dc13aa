import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../test/e2e/program.ts';
import { fixturePath, repoRoot } from '../test/runners.ts';
import { hasNats, hasPostgres } from '../test/services.ts';
import { client, startGatewayPair } from '../test/systems.ts';
import { parseConfig } from './config.ts';
import { startTelemetry, type Telemetry } from './telemetry.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled)
  console.warn('!!! tracing tests over PostgreSQL + NATS SKIPPED: they need DATABASE_URL and NATS_URL');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;

describe('tracing configuration from the OTEL_* variables', () => {
  const tracing = (env: Record<string, string>) =>
    parseConfig({ SWITCHYARD_DATA_DIR: 'memory://', ...env }).tracing;

  it('is off unless an endpoint or the otlp exporter is asked for, and off when disabled', () => {
    expect(tracing({})).toEqual({ exporter: 'none', serviceName: 'switchyard' });
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).exporter).toBe('otlp');
    expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' }).exporter).toBe(
      'otlp',
    );
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'edge' })).toEqual({
      exporter: 'otlp',
      serviceName: 'edge',
    });
    expect(
      tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).exporter,
    ).toBe('none');
    expect(
      tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })
        .exporter,
    ).toBe('none');
  });

  it('refuses what it cannot honour, naming the variable', () => {
    for (const env of [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'file:///etc/passwd' } as Record<string, string>,
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
      { OTEL_TRACES_EXPORTER: 'zipkin' },
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    ]) {
      expect(() => tracing(env)).toThrow(Object.keys(env)[0]!);
    }
  });
});

/**
 * One tool call through a gateway of a distributed deployment (PostgreSQL + NATS) whose runner is
 * another system: every span it causes, in every part, is in the caller's trace, with an in-memory
 * exporter for the whole process.
 */
describe.skipIf(!enabled)(
  'one trace for a tool call across gateway, bus, runner, log and projections',
  () => {
    const exporter = new InMemorySpanExporter();
    let telemetry: Telemetry;
    let pair: Awaited<ReturnType<typeof startGatewayPair>>;

    beforeAll(async () => {
      telemetry = startTelemetry(
        { exporter: 'none', serviceName: 'switchyard-test' },
        { exporter, version: 'test' },
      );
      pair = await startGatewayPair({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
      const r = await client(pair.a)('/api/v1/servers?wait=true', {
        body: {
          name: 'traced',
          transport: {
            type: 'stdio',
            command: process.execPath,
            args: ['--import', 'tsx', fixturePath('trace')],
            cwd: repoRoot,
          },
        },
      });
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      // b's tool calls go to a's runner over NATS; b must know the server's tools first.
      await until(async () =>
        (await client(pair.b)('/api/v1/servers/traced/tools/pid', { body: {} })).status === 200
          ? true
          : undefined,
      );
    }, 120_000);

    afterAll(async () => {
      await pair?.stop();
      await telemetry?.shutdown();
    }, 60_000);

    it('carries the caller traceparent from HTTP to the upstream, the log, the relay and the projections', {
      timeout: 60_000,
    }, async () => {
      exporter.reset();
      const res = await client(pair.b)('/api/v1/servers/traced/tools/meta', {
        body: {},
        headers: { traceparent: TRACEPARENT },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const callId = res.json.callId as string;

      // The upstream got the trace in its request's _meta, as a child of the gateway's span.
      const text = (res.json.content as Array<{ text: string }>)[0]!.text;
      const upstreamMeta = JSON.parse(text) as { traceparent?: string };
      expect(upstreamMeta.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

      // Relay and projections record theirs after the call has answered: wait for them.
      const spans = await until(async () => {
        const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
        const names = mine.map((s) => s.name);
        return names.includes('publish events') && names.some((n) => n === 'project tool_calls')
          ? mine
          : undefined;
      }, 30_000);
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const parentOf = (s: ReadableSpan) => byId.get(s.parentSpanContext?.spanId ?? '');
      const one = (name: string, kind?: SpanKind) => {
        const found = spans.filter((s) => s.name === name && (kind === undefined || s.kind === kind));
        expect(found.length, `${name}: ${spans.map((s) => s.name).join(', ')}`).toBeGreaterThan(0);
        return found[0]!;
      };

      const http = one('POST /api/v1/servers/:name/tools/:tool', SpanKind.SERVER);
      expect(http.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
      const call = one('tools/call meta', SpanKind.INTERNAL);
      expect(parentOf(call)).toBe(http);
      // Its two records are commands in the call's span.
      const commands = spans.filter((s) => s.name === 'command toolcall');
      expect(commands.length).toBe(2);
      for (const c of commands) expect(parentOf(c)).toBe(call);
      // Over NATS to the runner (another system) and on to the upstream.
      const send = one('send exec', SpanKind.CLIENT);
      expect(parentOf(send)).toBe(call);
      const runnerSide = one('process exec', SpanKind.SERVER);
      expect(parentOf(runnerSide)).toBe(send);
      const upstream = spans.find((s) => s.name === 'tools/call meta' && s.kind === SpanKind.CLIENT)!;
      expect(upstream).toBeDefined();
      expect(parentOf(upstream)?.spanContext().traceId).toBe(TRACE_ID);
      expect(upstreamMeta.traceparent).toContain(upstream.spanContext().spanId);
      // The log: its events name the command that appended them; the relay and the projections
      // record their work on them as children of that command.
      const events = await pair.a.store.readStream(`toolcall-${callId}`);
      expect(events.length).toBe(2);
      const commandIds = new Set(commands.map((c) => c.spanContext().spanId));
      for (const e of events) {
        expect(e.metadata.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-`));
        expect(commandIds.has(e.metadata.traceparent!.split('-')[2]!)).toBe(true);
      }
      expect(commandIds.has(parentOf(one('publish events', SpanKind.PRODUCER))!.spanContext().spanId)).toBe(
        true,
      );
      expect(
        commandIds.has(parentOf(one('project tool_calls', SpanKind.CONSUMER))!.spanContext().spanId),
      ).toBe(true);
      // A call that went well leaves no span marked failed.
      expect(spans.filter((s) => s.status.code === 2).map((s) => s.name)).toEqual([]);
    });

    it('starts a trace of its own for a request without one, and ignores a malformed traceparent', async () => {
      exporter.reset();
      const res = await client(pair.b)('/api/v1/servers/traced/tools/pid', {
        body: {},
        headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
      });
      expect(res.status).toBe(200);
      const traceresponse = res.headers.get('traceresponse');
      expect(traceresponse).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const traceId = traceresponse!.split('-')[1]!;
      expect(traceId).not.toBe('0'.repeat(32));
      const spans = await until(async () => {
        const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
        return mine.some((s) => s.name === 'process exec') ? mine : undefined;
      });
      const http = spans.find((s) => s.kind === SpanKind.SERVER && s.name.startsWith('POST'))!;
      expect(http.parentSpanContext).toBeUndefined();
    });
  },
);
