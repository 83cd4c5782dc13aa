import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

/**
 * The streams a run reads and writes. The real CLI uses the process's own; tests can pass their
 * own to run the program in process and look at what it printed.
 */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** What users write for "read standard input", as in most Unix tools. */
export const STDIN = '-';

/** The files to read: the ones given, or standard input when there are none. */
export function inputsOf(files: readonly string[]): string[] {
  return files.length === 0 ? [STDIN] : [...files];
}

export function openInput(file: string, io: Io): Readable {
  return file === STDIN ? io.stdin : createReadStream(file);
}

/** A failure that is the user's (a missing file, a bad option): reported in one line, exit code 1. */
export class UserError extends Error {
  override name = 'UserError';
}

/** Turns a file system error into a message a user understands. */
export function describeReadError(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : error instanceof Error
            ? error.message
            : String(error);
  return new UserError(`${file}: ${reason}`);
}
