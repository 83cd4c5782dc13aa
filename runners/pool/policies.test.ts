import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { Balancer, type Candidate } from './balancer.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { RestartPolicy } from './restart-policy.ts';

const instances = (weights: number[], inFlight: number[] = []): Candidate[] =>
  weights.map((weight, index) => ({ index, weight, inFlight: inFlight[index] ?? 0 }));

function picks(balancer: Balancer, candidates: Candidate[], n: number): number[] {
  return Array.from({ length: n }, () => balancer.order(candidates)[0]!.index);
}

describe('balancer', () => {
  it('round-robin takes instances in turn and offers the others as fallbacks', () => {
    const b = new Balancer('round-robin');
    expect(picks(b, instances([1, 1, 1]), 6)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(b.order(instances([1, 1, 1])).map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it('least-connections prefers the least busy, sharing ties in turn', () => {
    const b = new Balancer('least-connections');
    expect(picks(b, instances([1, 1, 1], [2, 0, 1]), 3)).toEqual([1, 1, 1]);
    const tied = picks(new Balancer('least-connections'), instances([1, 1, 1], [1, 0, 0]), 6);
    expect(tied).not.toContain(0);
    expect(tied.filter((i) => i === 1).length).toBeGreaterThanOrEqual(2);
    expect(tied.filter((i) => i === 2).length).toBeGreaterThanOrEqual(2);
  });

  it('weighted spreads calls by weight, interleaved, and drains weight 0', () => {
    const b = new Balancer('weighted');
    expect(picks(b, instances([5, 1, 1]), 7)).toEqual([0, 0, 1, 0, 2, 0, 0]);
    const drained = picks(new Balancer('weighted'), instances([0, 2]), 4);
    expect(drained).toEqual([1, 1, 1, 1]);
    expect(picks(new Balancer('weighted'), instances([0, 0]), 2)).toEqual([0, 0]);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, half-opens for one trial, closes on success', () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const breaker = new CircuitBreaker(clock, { threshold: 3, halfOpenAfterMs: 1_000 });
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryPass()).toBe(false);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.canPass()).toBe(false);
    breaker.failure();
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.tryPass()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.canPass()).toBe(true);
  });
});

describe('restart policy', () => {
  it('backs off exponentially and gives up on the fifth crash within the window', () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const policy = new RestartPolicy(clock, {
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      maxCrashes: 5,
      windowMs: 60_000,
    });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = policy.crashed();
      if (next.giveUp) throw new Error('gave up too early');
      delays.push(next.delayMs);
      clock.advance(1_000);
    }
    // 100, 200, 400, 800 ms, each ±20% of jitter.
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0.8 * 100 * 2 ** i);
      expect(d).toBeLessThanOrEqual(1.2 * 100 * 2 ** i);
    });
    expect(policy.crashed()).toEqual({ giveUp: true });
  });

  it('forgets crashes older than the window', () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    const policy = new RestartPolicy(clock, { maxCrashes: 3, windowMs: 10_000 });
    policy.crashed();
    policy.crashed();
    clock.advance(10_001);
    expect(policy.crashed().giveUp).toBe(false);
    expect(policy.recentCrashes).toBe(1);
  });
});
