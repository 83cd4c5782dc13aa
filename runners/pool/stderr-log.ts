import type { StderrLine } from '../runtime-views.port.ts';

/**
 * The last `capacity` stderr lines of one server, over its restarts and reconfigurations: a ring
 * buffer, so a server that writes without end costs a bounded amount of memory (lines are already
 * cut at 2,000 characters by the process reader).
 */
export class StderrLog {
  private readonly lines: (StderrLine | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.lines = new Array(capacity);
  }

  push(line: StderrLine): void {
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Lines after `afterSeq` (all kept when absent), oldest first, at most the last `limit` of them. */
  read(afterSeq = 0, limit = this.capacity): StderrLine[] {
    const out: StderrLine[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const l = this.lines[(start + i) % this.capacity];
      if (l && l.seq > afterSeq) out.push(l);
    }
    return out.slice(Math.max(0, out.length - limit));
  }
}
