import type { AppendResult, EventStore, StreamAppend } from '../kernel/event-store.port.ts';

export interface GroupCommitOptions {
  /** Most events in one commit (default 1,000): a longer queue waits for the next one. */
  maxEvents?: number;
}

interface Waiting extends StreamAppend {
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: appends that arrive while a commit is in flight wait, and all of them go in the
 * next single transaction (the store's appendMany) — so under load many callers share one round
 * trip and one fsync, and a
 * lone caller still commits at once. Each caller's promise settles only when its own events are
 * durable, exactly as with a plain append: nothing is acknowledged early. A group that fails as a
 * whole (one stream's revision conflict, say) is retried stream by stream, so each caller gets its
 * own result or its own error, never a neighbour's.
 *
 * Only `append` changes; every read goes straight to the store. A view, not an owner: `close`
 * waits for the queue and leaves the store open.
 */
export function groupCommit(store: EventStore, options: GroupCommitOptions = {}): EventStore {
  const maxEvents = options.maxEvents ?? 1_000;
  const queue: Waiting[] = [];
  let flushing = false;

  function take(): Waiting[] {
    let events = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || events + queue[n]!.events.length <= maxEvents)) {
      events += queue[n]!.events.length;
      n++;
    }
    return queue.splice(0, n);
  }

  async function commit(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      const [one] = group as [Waiting];
      await store.append(one.stream, one.events, one.expected).then(one.resolve, one.reject);
      return;
    }
    let results: AppendResult[];
    try {
      results = await store.appendMany(group);
    } catch {
      // Someone's conflict failed the group: each stream on its own, each caller its own answer.
      await Promise.all(
        group.map((w) => store.append(w.stream, w.events, w.expected).then(w.resolve, w.reject)),
      );
      return;
    }
    for (const [i, w] of group.entries()) w.resolve(results[i]!);
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) await commit(take());
    } finally {
      flushing = false;
    }
  }

  return {
    append(stream, events, expected) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ stream, events, expected, resolve, reject });
        void flush();
      });
    },
    appendMany: (appends) => store.appendMany(appends),
    readStream: (stream, o) => store.readStream(stream, o),
    streamRevision: (stream) => store.streamRevision(stream),
    readAll: (o) => store.readAll(o),
    subscribeToAll: (o) => store.subscribeToAll(o),
    headPosition: () => store.headPosition(),
    caughtUp: (after, position, filter) => store.caughtUp(after, position, filter),
    countAfter: (after, filter) => store.countAfter(after, filter),
    /** Waits for what is queued to commit; the store itself stays open (its owner closes it). */
    async close() {
      while (flushing || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    },
  };
}
