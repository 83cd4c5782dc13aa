import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the catalog domain. */
export const CatalogErrorCode = {
  InvalidInput: 'CATALOG.INVALID_INPUT',
  ToolNotFound: 'CATALOG.TOOL_NOT_FOUND',
  NotPinned: 'CATALOG.NOT_PINNED',
  StaleDefinition: 'CATALOG.STALE_DEFINITION',
} as const;
export type CatalogErrorCode = (typeof CatalogErrorCode)[keyof typeof CatalogErrorCode];

/** Input that does not match its schema; `issues` name each field (kind validation). */
export function invalidCatalogInput(
  message: string,
  issues: Array<{ path: string; message: string }>,
): AppError {
  return new AppError('validation', CatalogErrorCode.InvalidInput, message, { issues });
}

/** The server's current catalog has no such tool (or none was discovered): nothing to approve. */
export function toolNotFound(tool: string): AppError {
  return new AppError('not_found', CatalogErrorCode.ToolNotFound, `the server has no tool ${tool}`);
}

/** Approving a definition of a server that does not pin its tools would approve nothing. */
export function notPinned(): AppError {
  return new AppError(
    'conflict',
    CatalogErrorCode.NotPinned,
    'the server does not pin its tools (settings.pinTools): there is nothing to approve',
  );
}

/** The tool's definition is no longer the one reviewed: look at the pending change again. */
export function staleDefinition(tool: string): AppError {
  return new AppError(
    'conflict',
    CatalogErrorCode.StaleDefinition,
    `the definition of ${tool} is not the one with that hash (it changed, or the hash is wrong): list the pending tools again`,
  );
}
