/**
 * One problem found in a template. Loading, validation and scanning all report in this shape so a
 * CLI, an HTTP answer and an event can list every problem at once instead of the first only.
 */
export interface ValidationIssue {
  /** Stable, e.g. 'TEMPLATE.UNDECLARED_VARIABLE'; see {@link ISSUE_CODES}. */
  code: string;
  /** A warning never makes a template invalid. */
  severity: 'error' | 'warning';
  message: string;
  /** The template file concerned (posix, relative to the template root), when there is one. */
  file?: string;
}

/** The codes the engine reports. Callers may switch on them; the messages are for people. */
export const ISSUE_CODES = {
  NO_MANIFEST: 'TEMPLATE.NO_MANIFEST',
  INVALID_MANIFEST: 'TEMPLATE.INVALID_MANIFEST',
  TOO_MANY_FILES: 'TEMPLATE.TOO_MANY_FILES',
  FILE_TOO_LARGE: 'TEMPLATE.FILE_TOO_LARGE',
  TOO_LARGE: 'TEMPLATE.TOO_LARGE',
  SYMLINK: 'TEMPLATE.SYMLINK',
  UNSUPPORTED_FILE: 'TEMPLATE.UNSUPPORTED_FILE',
  UNREADABLE: 'TEMPLATE.UNREADABLE',
  DUPLICATE_NAME: 'TEMPLATE.DUPLICATE_NAME',
  UNDECLARED_VARIABLE: 'TEMPLATE.UNDECLARED_VARIABLE',
  UNUSED_VARIABLE: 'TEMPLATE.UNUSED_VARIABLE',
  SYNTAX_ERROR: 'TEMPLATE.SYNTAX_ERROR',
  RENDER_FAILED: 'TEMPLATE.RENDER_FAILED',
  /** Reaches `constructor`, `__proto__` and the like: what turns a template into code. */
  UNSAFE_EXPRESSION: 'TEMPLATE.UNSAFE_EXPRESSION',
  RENDER_TIMEOUT: 'TEMPLATE.RENDER_TIMEOUT',
  PATH_ESCAPES: 'TEMPLATE.PATH_ESCAPES',
  DUPLICATE_PATH: 'TEMPLATE.DUPLICATE_PATH',
  INVALID_DEFAULT: 'TEMPLATE.INVALID_DEFAULT',
} as const;

export function error(code: string, message: string, file?: string): ValidationIssue {
  return file === undefined
    ? { code, severity: 'error', message }
    : { code, severity: 'error', message, file };
}

export function warning(code: string, message: string, file?: string): ValidationIssue {
  return file === undefined
    ? { code, severity: 'warning', message }
    : { code, severity: 'warning', message, file };
}

export function hasErrors(issues: readonly ValidationIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** "first message (and 2 more problems)": one line that still says there is more to see. */
export function summarize(issues: readonly ValidationIssue[]): string {
  const errors = issues.filter((i) => i.severity === 'error');
  const shown = errors[0] ?? issues[0];
  if (!shown) return 'no problems';
  const more = (errors.length > 0 ? errors.length : issues.length) - 1;
  return more > 0 ? `${shown.message} (and ${more} more problem${more === 1 ? '' : 's'})` : shown.message;
}
