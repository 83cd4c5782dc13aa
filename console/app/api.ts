/** An answer of the API that is not a success: its status and, when the API said so, its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  /** A text route outside /api/v1 (`/metrics`), with the same credential. */
  text(url: string): Promise<string>;
  send<T>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /**
   * A long write that reports progress (`Accept: application/x-ndjson`): `onProgress` for each step,
   * then its result, or its refusal as an ApiError.
   */
  progress<T>(path: string, body: unknown, onProgress: (step: Progress) => void): Promise<T>;
  /**
   * Follows a Server-Sent Events route until `signal` aborts; `onOpen` once the API accepted it,
   * `onEvent` for each event.
   */
  stream(
    path: string,
    onEvent: (event: StreamEvent) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void>;
}

export interface Progress {
  progress: number;
  total: number | undefined;
  message: string | undefined;
}

export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Problem details (RFC 7807) of the gateway: title/detail and a stable `code`. */
async function errorOf(res: Response): Promise<ApiError> {
  let code: string | undefined;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as {
      code?: string;
      detail?: string;
      title?: string;
      message?: string;
      errors?: Array<{ path?: string; message?: string }>;
    };
    code = body.code;
    message = body.detail ?? body.message ?? body.title ?? message;
    const details = (body.errors ?? []).map((e) => [e.path, e.message].filter(Boolean).join(': '));
    if (details.length > 0) message = `${message} (${details.slice(0, 5).join('; ')})`;
  } catch {
    // not JSON: the status line says it
  }
  return new ApiError(res.status, code, message);
}

/**
 * The REST API with the signed-in principal's credential: every action of the console is the same
 * call a script would make. A 401 signs the console out (the key was revoked, the token expired).
 */
export function createApi(credential: string, onUnauthenticated: () => void): Api {
  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${credential}`,
    accept: 'application/json',
    ...extra,
  });
  async function answer<T>(res: Response): Promise<T> {
    if (res.status === 401) onUnauthenticated();
    if (!res.ok) throw await errorOf(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    async get<T>(path: string) {
      return answer<T>(await fetch(`/api/v1${path}`, { headers: headers() }));
    },
    async text(url: string) {
      const res = await fetch(url, { headers: headers({ accept: 'text/plain' }) });
      if (res.status === 401) onUnauthenticated();
      if (!res.ok) throw await errorOf(res);
      return res.text();
    },
    async send<T>(method: string, path: string, body?: unknown) {
      return answer<T>(
        await fetch(`/api/v1${path}`, {
          method,
          headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(body !== undefined && { body: JSON.stringify(body) }),
        }),
      );
    },
    async progress<T>(path: string, body: unknown, onProgress: (step: Progress) => void) {
      const res = await fetch(`/api/v1${path}`, {
        method: 'POST',
        headers: headers({ accept: 'application/x-ndjson', 'content-type': 'application/json' }),
        body: JSON.stringify(body),
      });
      if (res.status === 401) onUnauthenticated();
      if (!res.ok || !res.body) throw await errorOf(res);
      let outcome: { type: string; status?: number; body?: unknown } | undefined;
      await readLines(res.body, (line) => {
        const message = JSON.parse(line) as {
          type: string;
          progress?: number;
          total?: number;
          message?: string;
          status?: number;
          body?: unknown;
        };
        if (message.type === 'progress') {
          onProgress({ progress: message.progress ?? 0, total: message.total, message: message.message });
        } else outcome = message;
      });
      if (outcome?.type === 'result') return outcome.body as T;
      const problem = (outcome?.body ?? {}) as { code?: string; detail?: string; title?: string };
      throw new ApiError(
        outcome?.status ?? 502,
        problem.code,
        problem.detail ?? problem.title ?? 'the answer ended without a result',
      );
    },
    async stream(path, onEvent, signal, onOpen) {
      const res = await fetch(`/api/v1${path}`, {
        headers: headers({ accept: 'text/event-stream' }),
        signal,
      });
      if (res.status === 401) onUnauthenticated();
      if (!res.ok || !res.body) throw await errorOf(res);
      onOpen?.();
      // The feed's last message says why it ended; a refusal (the credential no longer allows it) is final.
      await readEvents(res.body, (e) => {
        if (e.event === 'end') {
          const reason = (JSON.parse(e.data) as { reason?: string }).reason;
          if (reason === 'unauthorized')
            throw new ApiError(403, 'EVENTS.UNAUTHORIZED', 'the feed was closed: no longer allowed');
        }
        onEvent(e);
      });
    },
  };
}

/** Splits a text/event-stream body into events (fetch, not EventSource: it sends the credential). */
function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: StreamEvent) => void) {
  // An event ends at a blank line; one cut off by the end of the body is dropped, as EventSource does.
  return readPieces(body, '\n\n', false, (block) => {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) onEvent({ id, event, data: data.join('\n') });
  });
}

/** Calls `onLine` with each line of a newline-delimited body (NDJSON), the last one unterminated too. */
function readLines(body: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  return readPieces(body, '\n', true, (piece) => {
    const line = piece.trim();
    if (line) onLine(line);
  });
}

/**
 * Reads a streamed text body (line ends made \n) and calls `onPiece` with each piece before a
 * `separator`, and with what is left at the end when `keepRest`.
 */
async function readPieces(
  body: ReadableStream<Uint8Array>,
  separator: string,
  keepRest: boolean,
  onPiece: (piece: string) => void,
) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end = buffer.indexOf(separator);
    while (end >= 0) {
      const piece = buffer.slice(0, end);
      buffer = buffer.slice(end + separator.length);
      end = buffer.indexOf(separator);
      onPiece(piece);
    }
  }
  if (keepRest && buffer) onPiece(buffer);
}
