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
  const r = await alternateAll({ ...options, baselines: { baseline: options.baseline } });
  return { subject: r.subject, baseline: r.baselines.baseline! };
}

/** Like alternate, with several baselines: each round runs every baseline, then the subject. */
export async function alternateAll<K extends string>(options: {
  subject: Operation;
  baselines: Record<K, Operation>;
  concurrency: number;
  sliceMs: number;
  rounds: number;
  warmupMs: number;
}): Promise<{ subject: LoopResult; baselines: Record<K, LoopResult> }> {
  const { concurrency } = options;
  const names = Object.keys(options.baselines) as K[];
  if (options.warmupMs > 0) {
    for (const name of names) await closedLoop(options.baselines[name], concurrency, options.warmupMs);
    await closedLoop(options.subject, concurrency, options.warmupMs);
  }
  const subject: LoopResult[] = [];
  const baselines = new Map<K, LoopResult[]>(names.map((n) => [n, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (const name of names) {
      baselines.get(name)!.push(await closedLoop(options.baselines[name], concurrency, options.sliceMs));
    }
    subject.push(await closedLoop(options.subject, concurrency, options.sliceMs));
  }
  const merged = Object.fromEntries(names.map((n) => [n, merge(baselines.get(n)!)])) as Record<K, LoopResult>;
  return { subject: merge(subject), baselines: merged };
}

export function throughput(r: LoopResult, perOp = 1): number {
  return rate(r.ops * perOp, r.elapsedMs);
}

export function latency(r: LoopResult) {
  return summarize(r.latencies);
}
