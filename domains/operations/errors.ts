import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the operations domain. */
export const OperationErrorCode = {
  InvalidInput: 'PROJECTION.INVALID_INPUT',
  NotQuarantined: 'PROJECTION.NOT_QUARANTINED',
} as const;
export type OperationErrorCode = (typeof OperationErrorCode)[keyof typeof OperationErrorCode];

/** Input that does not match its schema; `issues` name each field (kind validation). */
export function invalidOperationInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', OperationErrorCode.InvalidInput, message, { issues });
}

/** Releasing an event the projection does not skip would record a decision about nothing. */
export function notQuarantined(projection: string, eventId: string): AppError {
  return new AppError(
    'not_found',
    OperationErrorCode.NotQuarantined,
    `projection ${projection} has no quarantined event ${eventId}`,
    { projection, eventId },
  );
}
