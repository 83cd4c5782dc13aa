import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the templates domain. */
export const TemplateErrorCode = {
  InvalidInput: 'TEMPLATE.INVALID_INPUT',
  NotFound: 'TEMPLATE.NOT_FOUND',
  OwnedByOtherSource: 'TEMPLATE.OWNED_BY_OTHER_SOURCE',
  SourceNotFound: 'TEMPLATE_SOURCE.NOT_FOUND',
  SourceExists: 'TEMPLATE_SOURCE.EXISTS',
  SourceBuiltIn: 'TEMPLATE_SOURCE.BUILT_IN',
} as const;
export type TemplateErrorCode = (typeof TemplateErrorCode)[keyof typeof TemplateErrorCode];

export function invalidTemplateInput(message: string, issues: Array<{ path: string; message: string }>) {
  return new AppError('validation', TemplateErrorCode.InvalidInput, message, { issues });
}

export function templateNotFound(name: string, version?: string): AppError {
  return new AppError(
    'not_found',
    TemplateErrorCode.NotFound,
    version ? `template ${name} has no version ${version}` : `no template named ${name} in the catalog`,
    { name, ...(version && { version }) },
  );
}

export function ownedByOtherSource(name: string, owner: string, source: string): AppError {
  return new AppError(
    'conflict',
    TemplateErrorCode.OwnedByOtherSource,
    `template ${name} is published by source ${owner}; source ${source} cannot publish a template of the same name`,
    { name, owner, source },
  );
}

export function sourceNotFound(name: string): AppError {
  return new AppError('not_found', TemplateErrorCode.SourceNotFound, `no template source named ${name}`, {
    name,
  });
}

export function sourceExists(name: string): AppError {
  return new AppError(
    'conflict',
    TemplateErrorCode.SourceExists,
    `a template source named ${name} already exists with another location, ref or interval (pass replace: true to change it)`,
    { name },
  );
}

export function sourceBuiltIn(name: string): AppError {
  return new AppError(
    'conflict',
    TemplateErrorCode.SourceBuiltIn,
    `template source ${name} is built in and cannot be replaced or removed`,
    { name },
  );
}
