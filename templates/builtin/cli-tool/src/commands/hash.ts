import { createHash } from 'node:crypto';
import { type Command, Option } from 'commander';
import { describeReadError, type Io, inputsOf, openInput } from '../io.js';

export const ALGORITHMS = ['sha256', 'sha512', 'sha1', 'md5'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** The digest of one input, in lowercase hex, streaming. */
export async function digestOf(file: string, algorithm: Algorithm, io: Io): Promise<string> {
  const hash = createHash(algorithm);
  try {
    for await (const chunk of openInput(file, io)) hash.update(chunk as Buffer);
  } catch (error) {
    throw describeReadError(file, error);
  }
  return hash.digest('hex');
}

export function registerHash(program: Command, io: Io): void {
  program
    .command('hash')
    .description('print checksums of files (or of standard input), one "<digest>  <file>" line each')
    .argument('[files...]', 'files to read; none or "-" reads standard input')
    .addOption(new Option('-a, --algorithm <name>', 'hash algorithm').choices(ALGORITHMS).default('sha256'))
    .action(async (files: string[], options: { algorithm: Algorithm }) => {
      // The same format as sha256sum and friends, so `sha256sum -c` can check the output.
      for (const file of inputsOf(files)) {
        io.stdout.write(`${await digestOf(file, options.algorithm, io)}  ${file}\n`);
      }
    });
}
