/** Minimal JSON client for the gateway's REST API, used by the operator commands. */
export async function apiGet<T>(
  baseUrl: string,
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<T> {
  const url = new URL(path, baseUrl);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return request<T>(url, { method: 'GET' });
}

export async function apiPost<T>(baseUrl: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, baseUrl);
  return request<T>(url, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function request<T>(url: URL, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new CliError(
      `cannot reach the gateway at ${url.origin} (${(e as Error).message}); is it running? (--url)`,
    );
  }
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const detail = body && typeof body === 'object' && 'detail' in body ? String(body.detail) : text;
    throw new CliError(`${res.status} ${res.statusText}: ${detail}`);
  }
  return body as T;
}

export class CliError extends Error {}
