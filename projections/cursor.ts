import { AppError } from '../kernel/errors.ts';
import { isUuid } from '../kernel/ids.ts';

/**
 * Opaque page cursors of the list queries: the sort key of the last row and its id (the tie
 * breaker), base64url JSON. A cursor that is not one we handed out is a validation error, never a
 * query with odd values.
 */
export function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id]), 'utf8').toString('base64url');
}

/** `dateKey`: the key must parse as a date (lists ordered by time). */
export function decodeCursor(cursor: string, options: { dateKey: boolean }): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      (!options.dateKey || !Number.isNaN(Date.parse(v[0]))) &&
      typeof v[1] === 'string' &&
      isUuid(v[1])
    ) {
      return [v[0], v[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('validation', 'QUERY.INVALID_CURSOR', 'cursor is not one this API handed out');
}
