/**
 * Groups a one-at-a-time async source into batches of whatever has arrived, up to `maxBatch`: a
 * catch-up yields full batches, a quiet live feed batches of one — no timer, no added latency.
 * A background reader keeps at most two batches buffered. Leaving the loop aborts `stop` (which
 * must end the source) and waits for the reader to finish.
 */
export async function* batched<T>(
  source: AsyncIterable<T>,
  maxBatch: number,
  stop: AbortController,
): AsyncGenerator<T[], void, undefined> {
  const it = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  const highWater = maxBatch * 2;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (which: 'consumer' | 'producer') => {
    const fn = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    fn?.();
  };

  const producer = (async () => {
    try {
      while (!stop.signal.aborted) {
        if (queue.length >= highWater) {
          await new Promise<void>((resolve) => {
            wakeProducer = resolve;
          });
          continue;
        }
        const r = await it.next();
        if (r.done) break;
        queue.push(r.value);
        wake('consumer');
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wake('consumer');
    }
  })();

  try {
    for (;;) {
      if (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        wake('producer');
        yield batch;
        continue;
      }
      if (finished) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    stop.abort();
    wake('producer');
    await producer;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
