import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the catalog domain. */
export const CatalogErrorCode = {
  InvalidInput: 'CATALOG.INVALID_INPUT',
} as const;
export type CatalogErrorCode = (typeof CatalogErrorCode)[keyof typeof CatalogErrorCode];

/** Input that does not match its schema; `issues` name each field (kind validation). */
export function invalidCatalogInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', CatalogErrorCode.InvalidInput, message, { issues });
}
