/** A failure the CLI explains in one line (or a few) and exits 1 for, without a stack trace. */
export class CliError extends Error {}

/** The user asked for something the command cannot do: exit code 2, as for a bad option. */
export class UsageError extends CliError {}

/** An RFC 7807 problem document, as the gateway's error mapping writes them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail: string;
  code: string;
  errors?: Array<{ path: string; message: string }>;
  details?: { reasons?: unknown; requiredScopes?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * What to do about a refused credential. The gateway's code says which case it is: nothing was
 * sent (no --token, no admin.key), or what was sent is not (or no longer) a valid credential.
 */
const AUTH_HINTS: Record<string, string> = {
  'AUTH.REQUIRED':
    'no credential was sent: pass --token <API key or access token> (or set SWITCHYARD_TOKEN), ' +
    'or run where <data dir>/admin.key from the first start is readable (--data-dir, SWITCHYARD_DATA_DIR)',
  'AUTH.INVALID_CREDENTIAL':
    'the gateway refused the credential (unknown, revoked or expired, or meant for another gateway): ' +
    'pass another with --token or SWITCHYARD_TOKEN',
};
const GENERIC_401_HINT =
  'the gateway wants a credential: pass --token <API key or access token> (or set SWITCHYARD_TOKEN)';

/** The gateway refused: printed as `error: <detail> (<code>)`, with a hint for 401s. */
export class ProblemError extends CliError {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    const hint = status === 401 ? (AUTH_HINTS[problem.code] ?? GENERIC_401_HINT) : undefined;
    super(`${problem.detail} (${problem.code})${hint ? `\n${hint}` : ''}`);
  }
}

/** Turns an error status and body into the error to throw, problem document or not. */
export function problemError(status: number, statusText: string, body: unknown): CliError {
  if (isProblem(body)) return new ProblemError(status, body);
  const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  const head = statusText ? `${status} ${statusText}` : String(status);
  const hint = status === 401 ? `\n${GENERIC_401_HINT}` : '';
  return new CliError(`${head}${text ? `: ${text.slice(0, 500)}` : ''}${hint}`);
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).detail === 'string' &&
    typeof (body as Problem).code === 'string'
  );
}

/**
 * Prints a failure the way every command does: `error: <detail> (<code>)`, then the problem's
 * validation errors and (for a denial) the reasons, one per line. Anything but a CliError is a bug
 * and is rethrown.
 */
export function formatError(error: unknown): string {
  if (!(error instanceof CliError)) throw error;
  let out = `error: ${error.message}\n`;
  if (error instanceof ProblemError) {
    for (const e of error.problem.errors ?? []) out += `  ${e.path ? `${e.path}: ` : ''}${e.message}\n`;
    const reasons = error.problem.details?.reasons;
    if (Array.isArray(reasons)) for (const r of reasons) out += `  ${String(r)}\n`;
  }
  return out;
}

/** Usage errors exit 2, as commander's own would in most CLIs; everything else that failed, 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}
