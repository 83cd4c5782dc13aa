import { AppError } from '../kernel/errors.ts';

/**
 * The bus's errors, one code each, whichever adapter and whichever kind of request (a command to
 * the workers, a request on a subject): the one place they are made.
 */

/** Nothing listens on the subject: the role that serves it is not running. */
export function noResponders(subject: string): AppError {
  return new AppError(
    'unavailable',
    'BUS.NO_RESPONDERS',
    `nothing serves ${subject} (is its role running?)`,
    {
      subject,
    },
  );
}

export function requestTimedOut(subject: string, timeoutMs: number): AppError {
  return new AppError('timeout', 'BUS.TIMEOUT', `no reply on ${subject} within ${timeoutMs} ms`, {
    subject,
    timeoutMs,
  });
}

export function requestCancelled(subject: string): AppError {
  return new AppError('timeout', 'BUS.CANCELLED', `request on ${subject} was cancelled`, { subject });
}

export function payloadTooLarge(): AppError {
  return new AppError(
    'payload_too_large',
    'BUS.PAYLOAD_TOO_LARGE',
    'the message exceeds the NATS max payload',
  );
}

export function requestFailed(subject: string, why: string): AppError {
  return new AppError('unavailable', 'BUS.REQUEST_FAILED', `request on ${subject} failed: ${why}`);
}
