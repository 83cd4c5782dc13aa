/**
 * Groups an async iterable into batches: a batch closes when it is full, or when the source has
 * nothing more within `lingerMs` — so a catch-up moves in large batches, and a live event is not held
 * back waiting for company.
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  maxSize: number,
  lingerMs: number,
): AsyncGenerator<T[]> {
  const it = source[Symbol.asyncIterator]();
  const next = () => {
    const p = it.next();
    // Stays pending across yields; if the consumer stops early, its rejection must not go unhandled.
    p.catch(() => {});
    return p;
  };
  let pending = next();
  try {
    for (;;) {
      const first = await pending;
      if (first.done) return;
      const batch = [first.value];
      pending = next();
      while (batch.length < maxSize) {
        const r = await raceTimeout(pending, lingerMs);
        if (r === TIMEOUT || r.done) break;
        batch.push(r.value);
        pending = next();
      }
      yield batch;
    }
  } finally {
    // Not awaited: return() queues behind the pending next(), which may wait for a live event; the
    // caller ends the source through its own signal.
    it.return?.().catch(() => {});
  }
}

const TIMEOUT = Symbol('timeout');

function raceTimeout<V>(p: Promise<V>, ms: number): Promise<V | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
