import type { UpstreamSpec } from '../upstream.port.ts';

export type Strategy = UpstreamSpec['loadBalancing'];

/** What the balancer needs to know of an instance that could take a call now. */
export interface Candidate {
  index: number;
  inFlight: number;
  weight: number;
}

/**
 * Orders the instances that could take a call: the first is the pick, the rest are the fallbacks
 * for the one retry a connection failure earns.
 * - round-robin: in turn.
 * - least-connections: fewest calls in flight; ties go in turn, so idle instances share the load.
 * - weighted: smooth weighted round-robin (as nginx): over any window, instance i gets
 *   weight_i / Σweight of the calls, interleaved rather than in bursts. Weight 0 drains an
 *   instance: it is used only when nothing else can take the call.
 */
export class Balancer {
  private turn = 0;
  private readonly current = new Map<number, number>();

  constructor(private readonly strategy: Strategy) {}

  order<T extends Candidate>(candidates: readonly T[]): T[] {
    if (candidates.length <= 1) return [...candidates];
    const byIndex = [...candidates].sort((a, b) => a.index - b.index);
    const start = this.turn++ % byIndex.length;
    const rotated = [...byIndex.slice(start), ...byIndex.slice(0, start)];
    switch (this.strategy) {
      case 'round-robin':
        return rotated;
      case 'least-connections':
        // Array.prototype.sort is stable: equal loads keep their round-robin order.
        return rotated.sort((a, b) => a.inFlight - b.inFlight);
      case 'weighted':
        return this.weighted(byIndex);
      default: {
        const _: never = this.strategy;
        return _;
      }
    }
  }

  private weighted<T extends Candidate>(byIndex: T[]): T[] {
    const weighted = byIndex.filter((c) => c.weight > 0);
    if (weighted.length === 0) return byIndex;
    const total = weighted.reduce((n, c) => n + c.weight, 0);
    let best: T | undefined;
    for (const c of weighted) {
      const value = (this.current.get(c.index) ?? 0) + c.weight;
      this.current.set(c.index, value);
      if (best === undefined || value > (this.current.get(best.index) ?? 0)) best = c;
    }
    const pick = best!;
    this.current.set(pick.index, (this.current.get(pick.index) ?? 0) - total);
    const rest = byIndex.filter((c) => c !== pick).sort((a, b) => b.weight - a.weight);
    return [pick, ...rest];
  }
}
