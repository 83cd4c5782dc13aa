import { describe, expect, it } from 'vitest';
import { summarizeHealth } from '../projections/health/health-summary.ts';
import type { ServerView } from '../projections/servers/servers.queries.ts';
import { NO_STATS } from '../projections/tool-stats/tool-stats.queries.ts';
import { formatDuration, formatInstances, formatLogLine, formatTop } from './servers.format.ts';

const server = (name: string, enabled: boolean, status: ServerView['health']['status']) =>
  ({
    id: `id-${name}`,
    name,
    enabled,
    tenant: 't',
    owner: 'o',
    health: {
      status,
      since: null,
      lastCheckAt: null,
      latencyMs: null,
      lastError: status === 'ERROR' ? 'boom' : null,
    },
  }) as ServerView;

describe('runtime views on the command line', () => {
  it('says how long an instance has been up in its two largest units', () => {
    expect([999, 61_000, 3_723_000, 90_061_000, null].map(formatDuration)).toEqual([
      '0s',
      '1m1s',
      '1h2m',
      '1d1h',
      '-',
    ]);
  });

  it('lists instances with their pid, uptime, restarts, own sessions and last exit', () => {
    const out = formatInstances([
      {
        runner: 'runner-a',
        index: 0,
        target: 'pid 42',
        pid: 42,
        state: 'healthy',
        inFlight: 1,
        restarts: 2,
        circuit: 'closed',
        uptimeMs: 65_000,
        callerSessions: 3,
        lastExit: { at: '2026-12-07T07:00:00.000Z', reason: 'the process exited with code 7' },
      },
    ]);
    expect(out).toMatch(/^RUNNER +# +PID +STATE +UPTIME +RESTARTS +IN FLIGHT +OWN SESSIONS +LAST EXIT$/m);
    expect(out).toMatch(
      /^runner-a +0 +42 +healthy +1m5s +2 +1 +3 +2026-12-07T07:00:00.000Z the process exited with code 7$/m,
    );
    expect(formatLogLine({ runner: 'local', pid: 42, instance: 0, seq: 1, at: 'T', line: 'hello' })).toBe(
      'T local pid 42 | hello\n',
    );
  });

  it('counts servers by state for top, each shown with its stats', () => {
    const health = summarizeHealth([
      server('a', true, 'HEALTHY'),
      server('b', true, 'ERROR'),
      server('c', true, null),
      server('d', false, 'HEALTHY'),
    ]);
    expect(health).toMatchObject({ total: 4, enabled: 3, disabled: 1, healthy: 1, unhealthy: 1 });
    expect(health.byState).toMatchObject({ HEALTHY: 1, ERROR: 1, UNCHECKED: 1, DISABLED: 1 });
    const screen = formatTop({
      url: 'http://gw',
      at: 'NOW',
      health,
      stats: new Map([
        ['id-a', { ...NO_STATS, calls: 4, errors: 1, errorRate: 0.25, avgMs: 12.4, p50Ms: 10, p95Ms: 30 }],
      ]),
      calls: [],
      projections: { error: 'not allowed (AUTHZ.DENIED)' },
    });
    expect(screen).toContain(
      'servers: 4 total, 1 healthy, 1 unhealthy, 1 disabled (HEALTHY 1, ERROR 1, UNCHECKED 1, DISABLED 1)',
    );
    expect(screen).toMatch(/^a +HEALTHY +4 +25% +12 ms +10 ms +30 ms +- +-$/m);
    expect(screen).toMatch(/^b +ERROR +- +- +- +- +- +- +boom$/m);
    expect(screen).toContain('projection lag: not shown (not allowed (AUTHZ.DENIED))');
  });
});
