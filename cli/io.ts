import { exitCodeOf, formatError } from './errors.ts';

/** Where a command writes: the process's streams, or buffers in tests. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  /** Progress, details and errors; a progress bar only when it is a terminal. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** An exit code: 0, or 1 when the command ran but found a problem (a template that is not valid). */
export type Exit = 0 | 1;

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr });

export const printJson = (io: CliIo, value: unknown) =>
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** Runs a command on the process's streams: its failure printed as `error: …`, its exit code set. */
export async function run(command: (io: CliIo) => Promise<Exit>): Promise<void> {
  const io = processIo();
  try {
    process.exitCode = await command(io);
  } catch (e) {
    io.stderr.write(formatError(e));
    process.exitCode = exitCodeOf(e);
  }
}
