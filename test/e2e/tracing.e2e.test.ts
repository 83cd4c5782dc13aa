import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, repoRoot } from '../runners.ts';
import { hasNats, hasPostgres } from '../services.ts';
import { distributedTestEnv } from '../systems.ts';
import { adminFetch, cleanEnv, freePort, type Program, startProgram, until, waitForHttp } from './program.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! tracing e2e SKIPPED: needs DATABASE_URL and NATS_URL');

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}
interface ReceivedSpan extends OtlpSpan {
  service: string;
}

/**
 * A real OTLP/HTTP receiver (JSON, `POST /v1/traces`, as the OpenTelemetry exporters send it) and two
 * programs started as the README says, each exporting to it: a gateway (with worker, relay and
 * projector) and a runner, over PostgreSQL and NATS. One tool call with a caller's traceparent is one
 * trace across both processes.
 */
describe.skipIf(!enabled)(
  'traces exported by OTLP/HTTP from every process of a distributed deployment',
  () => {
    let receiver: Server;
    const received: ReceivedSpan[] = [];
    const requests: Array<{ path: string; contentType: string | undefined }> = [];
    let deployment: Awaited<ReturnType<typeof distributedTestEnv>>;
    const programs: Program[] = [];
    let gateway: string;

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => {
          requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
          const doc = JSON.parse(body) as {
            resourceSpans: Array<{
              resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
              scopeSpans: Array<{ spans: OtlpSpan[] }>;
            }>;
          };
          for (const rs of doc.resourceSpans) {
            const service =
              rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
            for (const ss of rs.scopeSpans) for (const s of ss.spans) received.push({ ...s, service });
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

      deployment = await distributedTestEnv('trace');
      const port = await freePort();
      gateway = `http://127.0.0.1:${port}`;
      const env = (service: string) =>
        cleanEnv({
          ...deployment.env,
          SWITCHYARD_LOG_LEVEL: 'warn',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: service,
          // Export within a fraction of a second, not the default five.
          OTEL_BSP_SCHEDULE_DELAY: '200',
        });
      programs.push(
        startProgram(
          ['start', 'gateway', 'worker', 'relay', 'projector', '--port', String(port)],
          env('edge'),
        ),
        startProgram(['start', 'runner'], env('runner')),
      );
      await waitForHttp(`${gateway}/ready`, programs[0]!, 90_000);
      const r = await adminFetch(`${gateway}/api/v1/servers?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'traced',
          transport: {
            type: 'stdio',
            command: process.execPath,
            args: ['--import', 'tsx', fixturePath('trace')],
            cwd: repoRoot,
          },
        }),
      });
      expect(r.status, await r.text()).toBe(202);
      await until(async () => {
        const res = await adminFetch(`${gateway}/api/v1/servers/traced/tools/pid`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        return res.status === 200 ? true : undefined;
      }, 90_000);
    }, 180_000);

    afterAll(async () => {
      await Promise.all(programs.map((p) => p.stop()));
      await deployment?.drop();
      receiver?.close();
    }, 60_000);

    it('one tool call: gateway and runner spans in one trace, parent to child across NATS', async () => {
      const res = await adminFetch(`${gateway}/api/v1/servers/traced/tools/meta`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: TRACEPARENT },
        body: '{}',
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { content: Array<{ text: string }> };
      const upstreamMeta = JSON.parse(answer.content[0]!.text) as { traceparent?: string };

      const spans = await until(async () => {
        const mine = received.filter((s) => s.traceId === TRACE_ID);
        const names = new Set(mine.map((s) => `${s.service}:${s.name}`));
        const complete = [
          'edge:send exec',
          'runner:process exec',
          'runner:tools/call meta',
          'edge:project tool_calls',
        ];
        return complete.every((n) => names.has(n)) ? mine : undefined;
      }, 30_000);
      const find = (service: string, name: string) => {
        const s = spans.find((x) => x.service === service && x.name === name);
        expect(
          s,
          `${service}:${name} in ${spans.map((x) => `${x.service}:${x.name}`).join(', ')}`,
        ).toBeDefined();
        return s!;
      };
      const http = find('edge', 'POST /api/v1/servers/:name/tools/:tool');
      expect(http.parentSpanId).toBe('b7ad6b7169203331');
      const call = find('edge', 'tools/call meta');
      expect(call.parentSpanId).toBe(http.spanId);
      const send = find('edge', 'send exec');
      expect(send.parentSpanId).toBe(call.spanId);
      // The runner is another process: its span's parent came over NATS in the request's header.
      const served = find('runner', 'process exec');
      expect(served.parentSpanId).toBe(send.spanId);
      const upstream = spans.find(
        (s) => s.service === 'runner' && s.name === 'tools/call meta' && s.kind === 3,
      )!;
      expect(upstream).toBeDefined();
      // …and the upstream was handed the runner's span in _meta.
      expect(upstreamMeta.traceparent).toBe(`00-${TRACE_ID}-${upstream.spanId}-01`);
      // The call's records, relayed and projected, in the same trace.
      expect(spans.filter((s) => s.service === 'edge' && s.name === 'command toolcall').length).toBe(2);
      expect(requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(
        true,
      );
    });
  },
);
