import type { Clock } from '../../kernel/clock.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  threshold?: number;
  /** How long an open circuit refuses calls before letting one trial through (default 10 s). */
  halfOpenAfterMs?: number;
}

/**
 * A consecutive-failures circuit breaker for one upstream instance. Hand-rolled rather than
 * cockatiel's, for two reasons: the balancer must ask "would you take a call now?" without making
 * one (cockatiel only moves from open to half-open inside execute()), and time comes from the
 * injected clock so tests need not sleep.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialRunning = false;
  private readonly threshold: number;
  private readonly halfOpenAfterMs: number;

  constructor(
    private readonly clock: Clock,
    options: CircuitBreakerOptions = {},
  ) {
    this.threshold = options.threshold ?? 5;
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 10_000;
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return 'closed';
    return this.clock.now().getTime() - this.openedAt >= this.halfOpenAfterMs ? 'half-open' : 'open';
  }

  /** Whether a call may go through now: closed, or half-open with no trial running yet. */
  canPass(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.trialRunning);
  }

  /** Claims the pass for a call; false when it may not go through. Pair with success() or failure(). */
  tryPass(): boolean {
    if (!this.canPass()) return false;
    if (this.state === 'half-open') this.trialRunning = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialRunning = false;
  }

  failure(): void {
    this.failures++;
    this.trialRunning = false;
    // A failed trial re-opens at once; otherwise it takes `threshold` failures in a row.
    if (this.openedAt !== undefined || this.failures >= this.threshold) {
      this.openedAt = this.clock.now().getTime();
    }
  }

  /** A call that ended without saying anything about the instance (cancelled, a caller error). */
  release(): void {
    this.trialRunning = false;
  }

  reset(): void {
    this.success();
  }
}
