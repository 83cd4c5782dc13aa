import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the health domain. */
export const HealthErrorCode = {
  InvalidInput: 'HEALTH.INVALID_INPUT',
} as const;
export type HealthErrorCode = (typeof HealthErrorCode)[keyof typeof HealthErrorCode];

/** Input that does not match its schema; `issues` name each field (kind validation). */
export function invalidHealthInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', HealthErrorCode.InvalidInput, message, { issues });
}
