import { CliError } from './http-client.ts';
import { problemError, readOperation } from './ndjson.ts';
import type { ProgressReporter } from './progress.ts';

/**
 * The REST calls behind `switchyard templates …`. Unlike the older operator commands' client, a
 * refusal keeps the gateway's problem document (detail and stable code), and long operations are
 * read as an ndjson stream of progress followed by their result.
 */
export interface TemplatesClient {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** POSTs `body` asking for progress, reports it, and resolves with the operation's result. */
  operation<T>(path: string, body: unknown, progress: ProgressReporter): Promise<T>;
}

export function templatesClient(baseUrl: string, fetchImpl: typeof fetch = fetch): TemplatesClient {
  const url = (path: string, query: Record<string, string | undefined> = {}) => {
    let u: URL;
    try {
      u = new URL(path, baseUrl);
    } catch {
      throw new CliError(`--url ${baseUrl} is not a URL`);
    }
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, v);
    return u;
  };

  async function call(u: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetchImpl(u, init);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new CliError(`cannot reach the gateway at ${u.origin} (${why}); is it running? (--url)`);
    }
  }

  async function json<T>(res: Response): Promise<T> {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new CliError(`the gateway answered ${res.status} with something that is not JSON`);
    }
    if (!res.ok) throw problemError(res.status, res.statusText, body);
    return body as T;
  }

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
      return json<T>(await call(url(path, query), { headers: { accept: 'application/json' } }));
    },

    async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
      return json<T>(await call(url(path), jsonInit(method, body)));
    },

    async operation<T>(path: string, body: unknown, progress: ProgressReporter) {
      try {
        const res = await call(url(path), jsonInit('POST', body, 'application/x-ndjson'));
        const type = res.headers.get('content-type') ?? '';
        // Refusals before the work starts (a bad body, an unknown template) come as plain problems.
        if (!res.ok || !type.includes('ndjson') || !res.body) return await json<T>(res);
        return (await readOperation(res.body, (p) => progress.update(p))) as T;
      } finally {
        progress.stop();
      }
    },
  };
}
