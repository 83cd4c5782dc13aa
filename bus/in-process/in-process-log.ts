import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { BusNames } from '../bus.port.ts';
import { subjectOf } from '../subjects.ts';
import { decodeEvent, encodeEvent } from '../wire.ts';

export interface LogEntry {
  /** 1-based, like a JetStream stream sequence. */
  seq: number;
  subject: string;
  event: RecordedEvent;
  bytes: number;
}

/**
 * The in-memory stand-in for the events stream: append-only, deduplicated by event id for the
 * life of the process, with a wake-up for consumers waiting at the tail.
 */
export class EventLog {
  readonly entries: LogEntry[] = [];
  private readonly ids = new Set<string>();
  private waiters: Array<() => void> = [];

  constructor(private readonly names: BusNames) {}

  /** Appends events not seen before, in order; returns how many were new. */
  append(events: readonly RecordedEvent[]): number {
    let added = 0;
    for (const e of events) {
      if (this.ids.has(e.id)) continue;
      // A copy through the wire format, so a consumer never shares objects with the publisher.
      const bytes = encodeEvent(e);
      this.entries.push({
        seq: this.entries.length + 1,
        subject: subjectOf(this.names, e),
        event: decodeEvent(bytes),
        bytes: bytes.length,
      });
      this.ids.add(e.id);
      added++;
    }
    if (added > 0) this.wake();
    return added;
  }

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  last(): LogEntry | undefined {
    return this.entries.at(-1);
  }

  /** Resolves on the next append or `wake()`. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
