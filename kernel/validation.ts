import type { z } from 'zod';
import type { AppError } from './errors.ts';

/** One failing field of an input: its dotted path ('' for the whole input) and what is wrong. */
export interface InputIssue {
  path: string;
  message: string;
}

/**
 * zod at the edge of the application layer: the parsed input, or the domain's validation error
 * (`invalid`) with one line naming every failing field and the issues themselves.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  invalid: (message: string, issues: InputIssue[]) => AppError,
): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw invalid(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '), issues);
}
