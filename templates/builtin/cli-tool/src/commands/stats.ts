import type { Command } from 'commander';
import { describeReadError, type Io, inputsOf, openInput } from '../io.js';

export interface Stats {
  file: string;
  lines: number;
  words: number;
  bytes: number;
}

const NEWLINE = 0x0a;

/** ASCII whitespace, as `wc` counts word boundaries. */
function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/**
 * Counts lines (newline characters), words (runs of non-whitespace) and bytes of one input,
 * streaming, so a file of any size takes constant memory.
 */
export async function statsOf(file: string, io: Io): Promise<Stats> {
  const stats: Stats = { file, lines: 0, words: 0, bytes: 0 };
  let inWord = false;
  try {
    for await (const chunk of openInput(file, io)) {
      const buffer = chunk as Buffer;
      stats.bytes += buffer.length;
      for (const byte of buffer) {
        if (byte === NEWLINE) stats.lines++;
        if (isSpace(byte)) inWord = false;
        else if (!inWord) {
          inWord = true;
          stats.words++;
        }
      }
    }
  } catch (error) {
    throw describeReadError(file, error);
  }
  return stats;
}

export function formatTable(rows: readonly Stats[]): string {
  const all = rows.length > 1 ? [...rows, total(rows)] : rows;
  const width = Math.max(5, ...all.flatMap((r) => [r.lines, r.words, r.bytes].map((n) => String(n).length)));
  const pad = (value: number | string) => String(value).padStart(width);
  const lines = [`${pad('lines')} ${pad('words')} ${pad('bytes')}  file`];
  for (const r of all) lines.push(`${pad(r.lines)} ${pad(r.words)} ${pad(r.bytes)}  ${r.file}`);
  return `${lines.join('\n')}\n`;
}

function total(rows: readonly Stats[]): Stats {
  return rows.reduce(
    (sum, r) => ({ file: 'total', lines: sum.lines + r.lines, words: sum.words + r.words, bytes: sum.bytes + r.bytes }),
    { file: 'total', lines: 0, words: 0, bytes: 0 },
  );
}

export function registerStats(program: Command, io: Io): void {
  program
    .command('stats')
    .description('count the lines, words and bytes of files (or of standard input)')
    .argument('[files...]', 'files to read; none or "-" reads standard input')
    .option('--json', 'print a JSON array instead of a table')
    .action(async (files: string[], options: { json?: boolean }) => {
      const rows: Stats[] = [];
      for (const file of inputsOf(files)) rows.push(await statsOf(file, io));
      io.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
    });
}
