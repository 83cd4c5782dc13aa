import { rate, summarize } from './stats.ts';

/** One operation of a closed-loop worker; `worker` is 0..concurrency-1, `i` counts its operations. */
export type Operation = (worker: number, i: number) => Promise<void>;

export interface LoopResult {
  ops: number;
  elapsedMs: number;
  /** Milliseconds per operation, in completion order. */
  latencies: number[];
}

/**
 * `concurrency` workers each run `op` back to back until `durationMs` has passed; an operation
 * started before the deadline is waited for and counted.
 */
export async function closedLoop(
  op: Operation,
  concurrency: number,
  durationMs: number,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const counters = new Array<number>(concurrency).fill(0);
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    counters.map(async (_, w) => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await op(w, counters[w]!++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { ops: latencies.length, elapsedMs: performance.now() - t0, latencies };
}

export interface PairResult {
  subject: LoopResult;
  baseline: LoopResult;
}

export function merge(results: readonly LoopResult[]): LoopResult {
  return {
    ops: results.reduce((n, r) => n + r.ops, 0),
    elapsedMs: results.reduce((n, r) => n + r.elapsedMs, 0),
    latencies: results.flatMap((r) => r.latencies),
  };
}

/**
 * Measures a subject against its baseline at the same concurrency, alternating B, S, B, S … for
 * `rounds` rounds of `sliceMs` each after an unrecorded warm-up of both, so that a drift in the
 * machine's load (other processes) hits both sides alike.
 */
export async function alternate(options: {
  subject: Operation;
  baseline: Operation;
  concurrency: number;
  sliceMs: number;
  rounds: number;
  warmupMs: number;
}): Promise<PairResult> {
  const { concurrency } = options;
  if (options.warmupMs > 0) {
    await closedLoop(options.baseline, concurrency, options.warmupMs);
    await closedLoop(options.subject, concurrency, options.warmupMs);
  }
  const subject: LoopResult[] = [];
  const baseline: LoopResult[] = [];
  for (let r = 0; r < options.rounds; r++) {
    baseline.push(await closedLoop(options.baseline, concurrency, options.sliceMs));
    subject.push(await closedLoop(options.subject, concurrency, options.sliceMs));
  }
  return { subject: merge(subject), baseline: merge(baseline) };
}

export function throughput(r: LoopResult, perOp = 1): number {
  return rate(r.ops * perOp, r.elapsedMs);
}

export function latency(r: LoopResult) {
  return summarize(r.latencies);
}
