/** Percentiles and small helpers for timing; numbers only, no assertions. */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Linear-interpolated percentile of an ascending array (`p` in 0..100); NaN for an empty one. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0]!;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(Float64Array.from(values).sort(), p);
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Operations per second. */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN;
}

/** Accumulates time spent in one phase of a run (e.g. "waiting for publish acks"). */
export class PhaseTimer {
  private readonly totals = new Map<string, { ms: number; calls: number; items: number }>();

  /** Times `fn` under `phase`; `items` says how many things (e.g. events) the call handled. */
  async time<T>(phase: string, fn: () => Promise<T>, items = 1): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, performance.now() - t0, items);
    }
  }

  add(phase: string, ms: number, items = 1): void {
    const t = this.totals.get(phase) ?? { ms: 0, calls: 0, items: 0 };
    t.ms += ms;
    t.calls++;
    t.items += items;
    this.totals.set(phase, t);
  }

  get(phase: string): { ms: number; calls: number; items: number } {
    return this.totals.get(phase) ?? { ms: 0, calls: 0, items: 0 };
  }

  reset(): void {
    this.totals.clear();
  }

  entries(): Array<[string, { ms: number; calls: number; items: number }]> {
    return [...this.totals.entries()];
  }
}

/** `12345.6` → `12,346`; small numbers keep significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
