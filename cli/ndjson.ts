import { z } from 'zod';
import { CliError, problemError } from './errors.ts';

/**
 * The gateway answers a long operation (sync, generate, analyse) asked for with
 * `Accept: application/x-ndjson` as JSON lines: progress as it goes, then exactly one result or
 * error line carrying what the plain JSON answer would have said.
 */
export const operationLineSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('progress'),
    progress: z.number(),
    total: z.number().optional(),
    message: z.string().optional(),
  }),
  z.object({ type: z.literal('result'), status: z.number().int(), body: z.unknown() }),
  z.object({ type: z.literal('error'), status: z.number().int(), body: z.unknown() }),
]);
export type OperationLine = z.infer<typeof operationLineSchema>;
export type ProgressLine = Extract<OperationLine, { type: 'progress' }>;
const KNOWN_TYPES = new Set<unknown>(['progress', 'result', 'error']);

/**
 * Parses newline-delimited JSON from a byte stream. Chunks split lines (and UTF-8 characters)
 * anywhere; blank lines are skipped and a last line without its newline still counts.
 */
export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = '';
  const parse = (line: string): unknown => {
    try {
      return JSON.parse(line);
    } catch {
      throw new CliError(`the gateway sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
  };
  for await (const chunk of chunks) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parse(line);
      newline = buffered.indexOf('\n');
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield parse(rest);
}

/**
 * Reads an operation's ndjson answer: reports each progress line, then returns the result's body
 * or throws the error line's problem. A stream that ends before either is an error too: the
 * gateway went away mid-operation, and what it did is unknown.
 */
export async function readOperation(
  chunks: AsyncIterable<Uint8Array | string>,
  onProgress: (p: ProgressLine) => void,
): Promise<unknown> {
  for await (const raw of ndjsonLines(chunks)) {
    const parsed = operationLineSchema.safeParse(raw);
    if (!parsed.success) {
      // A kind of line this CLI does not know yet (say, a heartbeat) is not its business.
      if (!KNOWN_TYPES.has((raw as { type?: unknown } | null)?.type)) continue;
      throw new CliError(`the gateway sent an unexpected line: ${JSON.stringify(raw).slice(0, 200)}`);
    }
    const line = parsed.data;
    switch (line.type) {
      case 'progress':
        onProgress(line);
        break;
      case 'result':
        return line.body;
      case 'error':
        throw problemError(line.status, '', line.body);
      default: {
        const _: never = line;
        return _;
      }
    }
  }
  throw new CliError('the gateway closed the stream before the operation finished; its outcome is unknown');
}
