import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CallTool, CallToolRequest } from '../../application/toolcalls/call-tool.ts';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { ProjectionStatus } from '../../projections/index.ts';
import type { UpstreamStatus } from '../../runners/upstream.port.ts';
import type { PolicyLimits } from '../rate-limit/policy-limits.ts';
import { consumerGroup } from './bus.metrics.ts';
import { projectionMetrics } from './projections.metrics.ts';
import { countRateLimits } from './rate-limits.metrics.ts';
import { sharedRead } from './shared-read.ts';
import { instrumentCallTool } from './tool-calls.metrics.ts';
import { upstreamMetrics } from './upstreams.metrics.ts';

/** The value of one series in the registry's exposition, or undefined when it is not there. */
async function sample(metrics: Registry, series: string): Promise<number | undefined> {
  const line = (await metrics.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const request = (tool: string): CallToolRequest =>
  ({
    server: { serverId: 's1', name: 'files', tenant: 't', owner: 'o', tools: [{ name: 'read' }] },
    tool,
    args: {},
    via: 'rest',
    correlationId: 'c',
    unknownTool: () => new Error(`unknown tool ${tool}`),
  }) as unknown as CallToolRequest;

describe('tool-call metrics', () => {
  it('counts each call by server, tool and outcome, and times it', async () => {
    const metrics = new Registry();
    const answers: Array<() => Promise<Awaited<ReturnType<CallTool>>>> = [
      async () => ({ callId: '1', result: { content: [] } }),
      async () => ({ callId: '2', result: { content: [], isError: true } }),
      async () => {
        throw new AppError('rate_limited', 'RATE_LIMITED', 'slow down');
      },
    ];
    const callTool = instrumentCallTool(async (r) => {
      if (r.tool !== 'read') throw r.unknownTool();
      return answers.shift()!();
    }, metrics);
    await callTool(request('read'));
    await callTool(request('read'));
    await expect(callTool(request('read'))).rejects.toThrow('slow down');
    // A made-up tool name is not a label: a caller cannot make series.
    await expect(callTool(request('x-1'))).rejects.toThrow('unknown tool');
    await expect(callTool(request('x-2'))).rejects.toThrow('unknown tool');

    const c = (tool: string, outcome: string) =>
      sample(metrics, `switchyard_tool_calls_total{server="files",tool="${tool}",outcome="${outcome}"}`);
    expect(await c('read', 'succeeded')).toBe(1);
    expect(await c('read', 'tool_error')).toBe(1);
    expect(await c('read', 'rate_limited')).toBe(1);
    expect(await c('(unknown)', 'not_found')).toBe(2);
    expect(await metrics.metrics()).not.toContain('x-1');
    expect(
      await sample(
        metrics,
        'switchyard_tool_call_duration_seconds_count{server="files",tool="read",outcome="succeeded"}',
      ),
    ).toBe(1);
  });
});

describe('upstream metrics', () => {
  it('reports instances by state and counts restarts only upwards, across a reconfiguration', async () => {
    const metrics = new Registry();
    const instance = (state: 'healthy' | 'unhealthy', restarts: number) => ({
      index: 0,
      target: 'pid 1',
      state,
      inFlight: 0,
      restarts,
      circuit: 'closed' as const,
    });
    let status: UpstreamStatus[] = [
      {
        serverId: 's1',
        name: 'files',
        revision: '1',
        instances: [instance('healthy', 0), instance('healthy', 0)],
      },
    ];
    upstreamMetrics({ status: () => status }, metrics);
    const restarts = () => sample(metrics, 'switchyard_upstream_restarts_total{server="files"}');
    expect(await sample(metrics, 'switchyard_upstream_instances{server="files",state="healthy"}')).toBe(2);
    expect(await sample(metrics, 'switchyard_upstream_instances{server="files",state="unhealthy"}')).toBe(0);
    expect(await restarts()).toBe(0);

    status = [{ ...status[0]!, instances: [instance('unhealthy', 2), instance('healthy', 1)] }];
    expect(await sample(metrics, 'switchyard_upstream_instances{server="files",state="unhealthy"}')).toBe(1);
    expect(await restarts()).toBe(3);
    // Reconfigured: the pool's counts start again from 0, the counter does not go back.
    status = [{ ...status[0]!, revision: '2', instances: [instance('healthy', 1)] }];
    expect(await restarts()).toBe(4);
    expect(await restarts()).toBe(4);
  });
});

describe('rate-limit metrics', () => {
  it('counts refusals by scope, and nothing for what passed or failed otherwise', async () => {
    const metrics = new Registry();
    const refuse = async () => {
      throw new AppError('rate_limited', 'RATE_LIMITED', 'too many');
    };
    const pass = async () => ({ verdicts: [], headers: {} });
    const limits = countRateLimits(
      {
        address: pass,
        failedAuthentication: refuse,
        principal: async () => {
          throw new Error('database down');
        },
        tool: refuse,
      } as unknown as PolicyLimits,
      metrics,
    );
    await limits.address('10.0.0.1');
    await expect(limits.failedAuthentication('10.0.0.1')).rejects.toThrow('too many');
    await expect(limits.principal({} as never)).rejects.toThrow('database down');
    await expect(limits.tool({} as never, 'files', 'read')).rejects.toThrow('too many');
    await expect(limits.tool({} as never, 'files', 'read')).rejects.toThrow('too many');
    const hits = (scope: string) => sample(metrics, `switchyard_rate_limit_hits_total{scope="${scope}"}`);
    expect(await hits('address')).toBe(0);
    expect(await hits('failed_authentication')).toBe(1);
    expect(await hits('principal')).toBe(0);
    expect(await hits('tool')).toBe(2);
  });
});

describe('projection metrics', () => {
  it('reports each projection from one status read per scrape, and its state as 1 of 5', async () => {
    const metrics = new Registry();
    let reads = 0;
    const status = (name: string, state: ProjectionStatus['state'], checkpoint: string, lagEvents: number) =>
      ({ name, state, checkpoint, lagEvents, lagMs: lagEvents * 500 }) as ProjectionStatus;
    projectionMetrics(
      async () => {
        reads++;
        return [status('servers', 'live', '42', 0), status('tool_calls', 'failed', '40', 2)];
      },
      metrics,
      silentLogger(),
    );
    expect(await sample(metrics, 'switchyard_projection_checkpoint_position{projection="servers"}')).toBe(42);
    expect(reads).toBe(1);
    expect(await sample(metrics, 'switchyard_projection_lag_events{projection="tool_calls"}')).toBe(2);
    expect(await sample(metrics, 'switchyard_projection_lag_seconds{projection="tool_calls"}')).toBe(1);
    expect(await sample(metrics, 'switchyard_projection_state{projection="tool_calls",state="failed"}')).toBe(
      1,
    );
    expect(await sample(metrics, 'switchyard_projection_state{projection="tool_calls",state="live"}')).toBe(
      0,
    );
  });
});

describe('metric helpers', () => {
  it('shares one read among the gauges of a scrape, and reads afresh at the next', async () => {
    let reads = 0;
    const read = sharedRead(async () => ++reads);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    expect(await read()).toBe(2);
  });

  it('labels a watcher consumer by its name without the unique suffix the NATS client adds', () => {
    expect(consumerGroup('projections_GJ4ikb6pBf0XBKmhvxYpvF_1')).toBe('projections');
    expect(consumerGroup('access_rules_GJ4ikb6pBf0XBKmhvxYpvF_12')).toBe('access_rules');
    expect(consumerGroup('durable_name')).toBe('durable_name');
  });
});
