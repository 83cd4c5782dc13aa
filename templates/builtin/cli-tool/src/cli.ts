import { Command, CommanderError } from 'commander';
import { BIN_NAME, DESCRIPTION, VERSION } from './about.js';
import { registerHash } from './commands/hash.js';
import { registerStats } from './commands/stats.js';
import { type Io, processIo, UserError } from './io.js';

/**
 * The whole command line, as a value: the bin entry (index.ts) runs it on process.argv, tests can
 * run it on any arguments and streams. Settings made here before the `register*` calls (output,
 * exit handling, help after errors) are inherited by every subcommand.
 */
export function buildProgram(io: Io = processIo()): Command {
  const program = new Command(BIN_NAME)
    .description(DESCRIPTION)
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print help and exit')
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    // Throw instead of calling process.exit, so run() decides the exit code.
    .exitOverride()
    .showHelpAfterError(`(run "${BIN_NAME} --help" for usage)`)
    .showSuggestionAfterError()
    .helpCommand(true);

  registerStats(program, io);
  registerHash(program, io);
  return program;
}

/**
 * Runs the program on `argv` (the arguments only, without node and the script) and returns the
 * exit code: 0 on success (including --help and --version), 1 on a user error (a missing file),
 * 2 on bad usage (an unknown command or option, a bad option value, no command at all).
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message already; help and version "errors" are successes.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      io.stderr.write(`${BIN_NAME}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
