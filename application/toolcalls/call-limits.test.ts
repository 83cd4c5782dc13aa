import { describe, expect, it } from 'vitest';
import type { ToolCallCommandResult, ToolCallOutcome } from '../../domains/toolcalls/index.ts';
import { systemClock } from '../../kernel/clock.ts';
import { randomIds } from '../../kernel/ids.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { Upstreams } from '../../runners/upstream.port.ts';
import { noToolLimits, testAdmin, testAuthorizer } from '../../test/access.ts';
import { createInFlight } from './call-limits.ts';
import { makeCallTool } from './call-tool.ts';

describe('calls in flight and result size', () => {
  function executor(caps: Parameters<typeof createInFlight>[0], callTool: Upstreams['callTool']) {
    const finished: ToolCallOutcome[] = [];
    const recorded = {} as ToolCallCommandResult;
    const execute = makeCallTool({
      upstreams: { callTool } as Partial<Upstreams> as Upstreams,
      authz: testAuthorizer(),
      limits: noToolLimits,
      inFlight: createInFlight(caps),
      journal: {
        start: async () => recorded,
        complete: async (f) => {
          finished.push(f);
          return recorded;
        },
      },
      clock: systemClock,
      ids: randomIds,
      logger: silentLogger(),
    });
    const call = (server = 's1', principal = testAdmin()) =>
      execute({
        server: { serverId: server, name: server, tenant: 'default', owner: 'o', tools: [{ name: 't' }] },
        tool: 't',
        args: {},
        principal,
        unknownTool: () => new Error('unknown'),
        via: 'rest',
        correlationId: 'c',
      });
    return { call, finished };
  }

  it('refuses a principal’s call past its cap, and a server’s past its cap, until one finishes', async () => {
    const open: Array<() => void> = [];
    const { call } = executor(
      { perPrincipal: 2, perServer: 3, maxResultBytes: 1_000_000 },
      () => new Promise((resolve) => open.push(() => resolve({ content: [] }))),
    );
    const running = async (n: number) => {
      while (open.length < n) await new Promise((r) => setTimeout(r, 1));
    };
    const a = call();
    const b = call();
    await running(2);
    await expect(call()).rejects.toMatchObject({ code: 'CALLS.TOO_MANY_IN_FLIGHT', kind: 'rate_limited' });
    const c = call('s1', testAdmin({ id: 'someone-else' }));
    await running(3);
    await expect(call('s1', testAdmin({ id: 'third' }))).rejects.toMatchObject({
      code: 'CALLS.TOO_MANY_IN_FLIGHT',
    });
    // Another server is not affected by s1's cap.
    const d = call('s2', testAdmin({ id: 'third' }));
    await running(4);
    for (const f of open.splice(0)) f();
    await Promise.all([a, b, c, d]);
    const again = call();
    await running(1);
    for (const f of open.splice(0)) f();
    await again;
  });

  it('withholds a result over the size limit and records the call as failed', async () => {
    const { call, finished } = executor(
      { perPrincipal: 5, perServer: 5, maxResultBytes: 2_048 },
      async () => ({
        content: [{ type: 'text', text: 'x'.repeat(10_000) }],
      }),
    );
    await expect(call()).rejects.toMatchObject({ code: 'RESULT.TOO_LARGE' });
    expect(finished[0]).toMatchObject({ outcome: 'failed', error: { code: 'RESULT.TOO_LARGE' } });
    expect(finished[0]!.resultBytes).toBeGreaterThan(10_000);
  });
});
