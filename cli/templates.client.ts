import { apiUrl, fetchGateway, readJson } from './http-client.ts';
import { readOperation } from './ndjson.ts';
import type { ProgressReporter } from './progress.ts';

/**
 * The REST calls behind `switchyard templates …`: plain JSON calls as the other commands make them,
 * and long operations read as an ndjson stream of progress followed by their result. `fetchImpl`
 * carries the credential (`authorizedFetch`).
 */
export interface TemplatesClient {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** POSTs `body` asking for progress, reports it, and resolves with the operation's result. */
  operation<T>(path: string, body: unknown, progress: ProgressReporter): Promise<T>;
}

export function templatesClient(baseUrl: string, fetchImpl: typeof fetch = fetch): TemplatesClient {
  const url = (path: string, query?: Record<string, string | undefined>) => apiUrl(baseUrl, path, query);
  const call = (u: URL, init: RequestInit) => fetchGateway(fetchImpl, u, init);

  const jsonInit = (method: string, body: unknown, accept = 'application/json'): RequestInit => ({
    method,
    headers: {
      accept,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

  return {
    async get<T>(path: string, query?: Record<string, string | undefined>) {
      return readJson<T>(await call(url(path, query), { headers: { accept: 'application/json' } }));
    },

    async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
      return readJson<T>(await call(url(path), jsonInit(method, body)));
    },

    async operation<T>(path: string, body: unknown, progress: ProgressReporter) {
      try {
        const res = await call(url(path), jsonInit('POST', body, 'application/x-ndjson'));
        const type = res.headers.get('content-type') ?? '';
        // Refusals before the work starts (a bad body, an unknown template) come as plain problems.
        if (!res.ok || !type.includes('ndjson') || !res.body) return await readJson<T>(res);
        return (await readOperation(res.body, (p) => progress.update(p))) as T;
      } finally {
        progress.stop();
      }
    },
  };
}
