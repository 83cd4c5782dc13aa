import type { Clock } from '../../kernel/clock.ts';

export interface RestartPolicyOptions {
  /** First delay before restarting a crashed instance (default 250 ms); doubles per crash. */
  baseDelayMs?: number;
  /** Upper bound of the delay (default 30 s). */
  maxDelayMs?: number;
  /** Crashes within `windowMs` that make a crash loop (default 5). */
  maxCrashes?: number;
  /** Window of the crash-loop count (default 60 s). */
  windowMs?: number;
}

/**
 * Decides what to do after an instance died: restart after an exponential backoff (with jitter,
 * so replicas of one server do not restart in lock-step), or give up because it is crash-looping.
 * A crash after a long healthy run starts the backoff over.
 */
export class RestartPolicy {
  private crashes: number[] = [];
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxCrashes: number;
  readonly windowMs: number;

  constructor(
    private readonly clock: Clock,
    options: RestartPolicyOptions = {},
  ) {
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxCrashes = options.maxCrashes ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
  }

  /** Records a crash; `giveUp` when it is the `maxCrashes`-th within the window. */
  crashed(): { giveUp: true } | { giveUp: false; delayMs: number } {
    const now = this.clock.now().getTime();
    this.crashes = [...this.crashes.filter((t) => now - t < this.windowMs), now];
    if (this.crashes.length >= this.maxCrashes) return { giveUp: true };
    const exp = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (this.crashes.length - 1));
    const jitter = 0.8 + Math.random() * 0.4;
    return { giveUp: false, delayMs: Math.round(exp * jitter) };
  }

  /** Crashes counted in the current window. */
  get recentCrashes(): number {
    const now = this.clock.now().getTime();
    return this.crashes.filter((t) => now - t < this.windowMs).length;
  }

  reset(): void {
    this.crashes = [];
  }
}
