/**
 * One read for every gauge of a scrape. prom-client collects a registry's metrics concurrently, so
 * gauges fed by one status call (a projection's checkpoint, lag and state) would each make it;
 * callers that arrive while a read is in flight share it, and the next scrape reads afresh.
 */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
