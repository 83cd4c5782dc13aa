/**
 * Groups a one-at-a-time async source into batches of whatever has arrived, up to `maxBatch`: a
 * catch-up yields full batches, a quiet live feed batches of one. With `lingerMs`, a batch that is
 * not full waits up to that long after its first item for more to arrive (as a producer's linger
 * does): a little latency buys fewer, larger batches when items come in quick succession. A
 * background reader keeps at most two batches buffered. Leaving the loop aborts `stop` (which
 * must end the source) and waits for the reader to finish.
 */
export async function* batched<T>(
  source: AsyncIterable<T>,
  maxBatch: number,
  stop: AbortController,
  lingerMs = 0,
): AsyncGenerator<T[], void, undefined> {
  const it = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  const highWater = maxBatch * 2;
  /** When the oldest item in the queue arrived (for the linger). */
  let oldestAt = 0;
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
        if (queue.length === 0) oldestAt = performance.now();
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
      const lingering = lingerMs - (performance.now() - oldestAt);
      if (queue.length > 0 && queue.length < maxBatch && !finished && lingering > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, lingering);
          wakeConsumer = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      if (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        // What is left arrived while this batch waited: it lingers no longer.
        if (queue.length > 0) oldestAt = 0;
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

/**
 * The reason to give an AbortController aborted only to release what listens to it once its
 * operation is over: `abort()` without one builds a DOMException, stack and all, on every call.
 * One shared instance: whoever receives it must not change it.
 */
export const OPERATION_OVER: Error = Object.assign(new Error('the operation is over'), {
  name: 'AbortError',
});
