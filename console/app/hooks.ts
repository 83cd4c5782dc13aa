import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type StreamEvent } from './api.ts';
import { useSession } from './context.ts';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * A GET of the API, again when `path` changes, every `refreshMs` when given, and on `reload()`.
 * `path` null: nothing to load yet.
 */
export function useResource<T>(path: string | null, refreshMs?: number): Resource<T> {
  const { api } = useSession();
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api.get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [api, path, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface StreamState {
  status: 'connecting' | 'live' | 'reconnecting' | 'refused';
  error: Error | undefined;
}

/**
 * Follows a Server-Sent Events route of the API while mounted, resuming after the last id when the
 * connection breaks (with a growing pause, at most 10 s). A refusal (4xx) is final and said.
 */
export function useEventStream(path: string | null, onEvent: (event: StreamEvent) => void): StreamState {
  const { api } = useSession();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [state, setState] = useState<StreamState>({ status: 'connecting', error: undefined });
  useEffect(() => {
    if (path === null) return;
    const stop = new AbortController();
    let lastId: string | undefined;
    let pause = 500;
    const [route = '', query = ''] = path.split('?', 2);
    void (async () => {
      while (!stop.signal.aborted) {
        const params = new URLSearchParams(query);
        if (lastId) params.set('after', lastId);
        try {
          await api.stream(
            `${route}?${params}`,
            (e) => {
              if (e.event === 'end') return handler.current(e);
              if (e.id) lastId = e.id;
              pause = 500;
              handler.current(e);
            },
            stop.signal,
            () => setState({ status: 'live', error: undefined }),
          );
        } catch (e) {
          if (stop.signal.aborted) return;
          if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
            setState({ status: 'refused', error: e });
            return;
          }
          setState({ status: 'reconnecting', error: e as Error });
        }
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 10_000);
      }
    })();
    return () => stop.abort();
  }, [api, path]);
  return state;
}

/** Runs an action of the API, with its pending state and error for the form that started it. */
export function useAction<A extends unknown[], T>(run: (...args: A) => Promise<T>) {
  const [state, setState] = useState<{ pending: boolean; error?: Error; result?: T }>({ pending: false });
  const start = useCallback(
    async (...args: A) => {
      setState({ pending: true });
      try {
        const result = await run(...args);
        setState({ pending: false, result });
        return result;
      } catch (e) {
        setState({ pending: false, error: e as Error });
        return undefined;
      }
    },
    [run],
  );
  return { ...state, start };
}

/** Removes one item of a collection (`DELETE <collection>/<id>`), then reads the list again. */
export function useRemove(collection: string, reload: () => void) {
  const { api } = useSession();
  return useAction(
    useCallback(
      async (id: string) => {
        await api.send('DELETE', `${collection}/${encodeURIComponent(id)}`);
        reload();
        return true;
      },
      [api, collection, reload],
    ),
  );
}
