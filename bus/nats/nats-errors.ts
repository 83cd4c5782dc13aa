import nats from 'nats';
import { AppError } from '../../kernel/errors.ts';
import { noResponders, payloadTooLarge, requestFailed, requestTimedOut } from '../bus-errors.ts';
import { errorText } from '../wire.ts';

const { ErrorCode } = nats;

// JetStream API error codes (nats-server errors.json) that mean "that resource is gone".
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

function natsError(e: unknown): { code?: string; api_error?: { err_code?: number } } | undefined {
  return e !== null && typeof e === 'object'
    ? (e as { code?: string; api_error?: { err_code?: number } })
    : undefined;
}

export function isStreamNotFound(e: unknown): boolean {
  return natsError(e)?.api_error?.err_code === STREAM_NOT_FOUND;
}

/** The server refused a publish or request: the user's permissions do not allow that subject. */
export function isPermissionDenied(e: unknown): boolean {
  return natsError(e)?.code === ErrorCode.PermissionsViolation;
}

export function isConsumerNotFound(e: unknown): boolean {
  return natsError(e)?.api_error?.err_code === CONSUMER_NOT_FOUND;
}

/** A JetStream publish to a subject no stream captures answers "no responders". */
export function isNoResponders(e: unknown): boolean {
  return natsError(e)?.code === ErrorCode.NoResponders;
}

export function isTimeout(e: unknown): boolean {
  return natsError(e)?.code === ErrorCode.Timeout;
}

export function isMaxPayload(e: unknown): boolean {
  return natsError(e)?.code === ErrorCode.MaxPayloadExceeded;
}

/** A failed NATS request (a command, or a request on a subject) as the bus's error. */
export function requestError(e: unknown, subject: string, timeoutMs: number): AppError {
  if (e instanceof AppError) return e;
  if (isNoResponders(e)) return noResponders(subject);
  if (isTimeout(e)) return requestTimedOut(subject, timeoutMs);
  if (isMaxPayload(e)) return payloadTooLarge();
  return requestFailed(subject, errorText(e));
}
