/**
 * Error kinds are what the edges map to protocol answers (HTTP status, MCP result or JSON-RPC
 * error) in one place: gateway/error-mapping.ts. Domains only ever pick a kind and a stable code.
 */
export type ErrorKind =
  | 'validation'
  /** No credential, or one that is not valid (401). */
  | 'unauthenticated'
  /** Authenticated, but not allowed (403); hidden resources answer not_found instead. */
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'concurrency'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unavailable'
  | 'upstream'
  | 'timeout'
  | 'internal';

export class AppError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

/** Raised by an event store when the stream is not at the expected revision. */
export class WrongExpectedRevisionError extends AppError {
  readonly stream: string;
  readonly expected: string;
  readonly actual: string;

  constructor(stream: string, expected: bigint | string, actual: bigint | 'no-stream') {
    super(
      'concurrency',
      'EVENT_STORE.WRONG_EXPECTED_REVISION',
      `stream ${stream} expected at revision ${String(expected)} but is at ${String(actual)}`,
      { stream, expected: String(expected), actual: String(actual) },
    );
    this.stream = stream;
    this.expected = String(expected);
    this.actual = String(actual);
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** A one-line message for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e);
}
