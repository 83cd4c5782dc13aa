import { describe, expect, it } from 'vitest';
import { fold, spec } from '../../kernel/decider.ts';
import { defaultRetryPolicy, discoveryDecider, retryDelayMs } from './decider.ts';
import type { DiscoveryEvent } from './events.ts';

const serverId = '5b0e1f7c-9a3d-4b2e-8c41-2f6d7e8a9b10';
const t0 = new Date('2026-11-21T10:00:00.000Z');
const policy = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 };

const requested: DiscoveryEvent = {
  type: 'DiscoveryRequested',
  data: { serverId, reason: 'registered', serverRevision: '0', requestedAt: t0.toISOString() },
};
const failed = (attempt: number, next: string | null): DiscoveryEvent => ({
  type: 'DiscoveryAttemptFailed',
  data: { serverId, attempt, error: 'connection refused', at: t0.toISOString(), nextAttemptAt: next },
});

describe('discovery saga', () => {
  it('a registration makes discovery pending, due at once', () => {
    spec(discoveryDecider)
      .given([])
      .when({ type: 'RequestDiscovery', serverId, reason: 'registered', serverRevision: 0n, at: t0 })
      .thenEmits([requested]);
    const state = fold(discoveryDecider, [requested]);
    expect(state).toMatchObject({ status: 'pending', attempts: 0, dueAt: t0 });
  });

  it('a failed attempt schedules the next one with backoff', () => {
    spec(discoveryDecider)
      .given([requested])
      .when({
        type: 'RecordAttempt',
        serverId,
        attempt: 1,
        outcome: { ok: false, error: 'connection refused' },
        at: t0,
        policy,
      })
      .thenEmits([failed(1, '2026-11-21T10:00:01.000Z')]);
    expect(retryDelayMs(policy, 2)).toBe(2_000);
    expect(retryDelayMs(defaultRetryPolicy, 20)).toBe(defaultRetryPolicy.maxDelayMs);
  });

  it('gives up after the last attempt, until the next request', () => {
    const given = [requested, failed(1, '2026-11-21T10:00:01.000Z'), failed(2, '2026-11-21T10:00:03.000Z')];
    spec(discoveryDecider)
      .given(given)
      .when({
        type: 'RecordAttempt',
        serverId,
        attempt: 3,
        outcome: { ok: false, error: 'connection refused' },
        at: t0,
        policy,
      })
      .thenEmits([failed(3, null)]);
    expect(fold(discoveryDecider, [...given, failed(3, null)])).toMatchObject({
      status: 'gave-up',
      attempts: 3,
    });
    expect(fold(discoveryDecider, [...given, failed(3, null), requested])).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
  });

  it('records success and returns to idle with the catalog hash', () => {
    spec(discoveryDecider)
      .given([requested])
      .when({
        type: 'RecordAttempt',
        serverId,
        attempt: 1,
        outcome: { ok: true, hash: 'h1', changed: true },
        at: t0,
        policy,
      })
      .thenEmits([
        {
          type: 'DiscoveryCompleted',
          data: { serverId, attempt: 1, hash: 'h1', changed: true, at: t0.toISOString() },
        },
      ]);
  });

  it('refuses a stale attempt, and ignores outcomes when nothing is pending', () => {
    spec(discoveryDecider)
      .given([requested, failed(1, '2026-11-21T10:00:01.000Z')])
      .when({
        type: 'RecordAttempt',
        serverId,
        attempt: 1,
        outcome: { ok: false, error: 'x' },
        at: t0,
        policy,
      })
      .thenThrows('DISCOVERY.STALE_ATTEMPT');
    spec(discoveryDecider)
      .given([])
      .when({
        type: 'RecordAttempt',
        serverId,
        attempt: 1,
        outcome: { ok: false, error: 'x' },
        at: t0,
        policy,
      })
      .thenEmits([]);
  });

  it('disabling cancels a pending discovery, and only a pending one', () => {
    spec(discoveryDecider)
      .given([requested])
      .when({ type: 'CancelDiscovery', serverId, reason: 'disabled', at: t0 })
      .thenEmits([
        { type: 'DiscoveryCancelled', data: { serverId, reason: 'disabled', at: t0.toISOString() } },
      ]);
    spec(discoveryDecider)
      .given([])
      .when({ type: 'CancelDiscovery', serverId, reason: 'disabled', at: t0 })
      .thenEmits([]);
  });
});
