import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the toolsets domain. */
export const ToolsetErrorCode = {
  InvalidInput: 'TOOLSET.INVALID_INPUT',
  NotFound: 'TOOLSET.NOT_FOUND',
} as const;

export function invalidToolsetInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', ToolsetErrorCode.InvalidInput, message, { issues });
}

export function toolsetNotFound(name: string): AppError {
  return new AppError('not_found', ToolsetErrorCode.NotFound, `no toolset ${name}`, { toolset: name });
}
