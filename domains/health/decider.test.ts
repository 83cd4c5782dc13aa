import { describe, expect, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { HealthCommand } from './commands.ts';
import { RecordHealthInput } from './commands.ts';
import { healthDecider } from './decider.ts';
import type { HealthEvent, HealthStatus } from './events.ts';
import { registerHealthEvents } from './events.ts';

const serverId = '6f1c2a43-5d7e-4b8f-9a0b-1c2d3e4f5a6b';
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

const check = (
  status: HealthStatus,
  s: number,
  extra: { latencyMs?: number; error?: string } = {},
): HealthCommand => ({
  type: 'RecordHealth',
  data: { serverId, status, ...extra, checkedAt: t(s) },
});
const changed = (
  from: HealthStatus | null,
  to: HealthStatus,
  s: number,
  extra: { latencyMs?: number; error?: string } = {},
): HealthEvent => ({
  type: 'ServerHealthChanged',
  data: {
    serverId,
    from,
    to,
    latencyMs: extra.latencyMs ?? null,
    error: extra.error ?? null,
    at: t(s).toISOString(),
  },
});

const given = spec(healthDecider).given;

describe('RecordHealth', () => {
  it('the first check is a transition from nothing', () => {
    given([])
      .when(check('STARTING', 0))
      .thenEmits([changed(null, 'STARTING', 0)]);
  });
  it('a check with the same status records nothing, whatever its latency', () => {
    given([changed(null, 'HEALTHY', 0, { latencyMs: 3 })])
      .when(check('HEALTHY', 30, { latencyMs: 250 }))
      .thenEmits([]);
  });
  it('records a transition with the latency and error of the check that saw it', () => {
    given([changed(null, 'STARTING', 0), changed('STARTING', 'HEALTHY', 1)])
      .when(check('UNHEALTHY', 60, { latencyMs: 5000, error: 'ping timed out' }))
      .thenEmits([changed('HEALTHY', 'UNHEALTHY', 60, { latencyMs: 5000, error: 'ping timed out' })]);
  });
  it('a flapping server records every flip, and only the flips', () => {
    const statuses: HealthStatus[] = [
      'HEALTHY',
      'HEALTHY',
      'UNHEALTHY',
      'UNHEALTHY',
      'HEALTHY',
      'ERROR',
      'ERROR',
    ];
    const history: HealthEvent[] = [];
    for (const [i, s] of statuses.entries()) history.push(...given(history).when(check(s, i)).events());
    expect(history.map((e) => `${e.data.from}->${e.data.to}`)).toEqual([
      'null->HEALTHY',
      'HEALTHY->UNHEALTHY',
      'UNHEALTHY->HEALTHY',
      'HEALTHY->ERROR',
    ]);
  });
  it('a check older than the last transition (a late report) changes nothing', () => {
    given([changed(null, 'HEALTHY', 10)])
      .when(check('UNHEALTHY', 9))
      .thenEmits([]);
  });
});

describe('inputs and events', () => {
  it('rejects an unknown status, naming the choices, and rounds latencies', () => {
    const bad = RecordHealthInput.safeParse({ serverId, status: 'OK' });
    expect(bad.error?.issues[0]?.message).toMatch(/HEALTHY, UNHEALTHY, STARTING, STOPPED, ERROR/);
    expect(RecordHealthInput.parse({ serverId, status: 'HEALTHY', latencyMs: 1.6 }).latencyMs).toBe(2);
    expect(RecordHealthInput.safeParse({ serverId, status: 'HEALTHY', latencyMs: -1 }).success).toBe(false);
  });
  it('every event the decider produces passes its schema', () => {
    const registry = registerHealthEvents(new EventTypeRegistry());
    const produced = [
      ...given([])
        .when(check('HEALTHY', 0, { latencyMs: 4 }))
        .events(),
      ...given([changed(null, 'HEALTHY', 0)])
        .when(check('ERROR', 1, { error: 'exit 1' }))
        .events(),
    ];
    expect(produced).toHaveLength(2);
    for (const e of produced) expect(() => registry.validate(e.type, e.data)).not.toThrow();
  });
});
