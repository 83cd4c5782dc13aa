import { describe, expect, it } from 'vitest';
import { CliError, ProblemError } from './errors.ts';
import { ndjsonLines, type ProgressLine, readOperation } from './ndjson.ts';

async function* chunks(...parts: Array<string | Uint8Array>) {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('ndjsonLines', () => {
  it('joins lines split across chunks, skips blank lines and keeps a last line without newline', async () => {
    const lines = await collect(
      ndjsonLines(chunks('{"type":"prog', 'ress","progress":1}\n\n{"a"', ':2}\r\n{"b":3}')),
    );
    expect(lines).toEqual([{ type: 'progress', progress: 1 }, { a: 2 }, { b: 3 }]);
  });

  it('keeps a multi-byte character cut between two chunks', async () => {
    const bytes = new TextEncoder().encode('{"message":"généré ✓"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const lines = await collect(ndjsonLines(chunks(bytes.slice(0, cut), bytes.slice(cut))));
    expect(lines).toEqual([{ message: 'généré ✓' }]);
  });

  it('refuses a line that is not JSON', async () => {
    await expect(collect(ndjsonLines(chunks('{"ok":1}\nnot json\n')))).rejects.toThrow(/not JSON: not json/);
  });
});

describe('readOperation', () => {
  it('reports progress lines and returns the result body', async () => {
    const seen: ProgressLine[] = [];
    const body = await readOperation(
      chunks(
        '{"type":"progress","progress":0,"total":4,"message":"rendering"}\n{"type":"progress","pro',
        'gress":4,"total":4,"message":"writing"}\n{"type":"result","status":201,"body":{"projectId":"p1"}}\n',
      ),
      (p) => seen.push(p),
    );
    expect(body).toEqual({ projectId: 'p1' });
    expect(seen.map((p) => [p.progress, p.message])).toEqual([
      [0, 'rendering'],
      [4, 'writing'],
    ]);
  });

  it('throws the problem of an error line, with its detail and code', async () => {
    const run = readOperation(
      chunks(
        '{"type":"progress","progress":1,"total":2}\n',
        '{"type":"error","status":409,"body":{"type":"x","title":"Conflict","status":409,',
        '"detail":"my-server exists and is not empty","code":"WORKSPACE.DESTINATION_NOT_EMPTY"}}',
      ),
      () => undefined,
    );
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(409);
    expect((error as ProblemError).message).toBe(
      'my-server exists and is not empty (WORKSPACE.DESTINATION_NOT_EMPTY)',
    );
  });

  it('fails when the stream ends before a result or error line', async () => {
    const error = await readOperation(chunks('{"type":"progress","progress":1}\n'), () => undefined).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(/closed the stream before the operation finished/);
  });

  it('skips lines of a type it does not know, but not a malformed known one', async () => {
    const body = await readOperation(
      chunks('{"type":"heartbeat"}\n{"type":"result","status":200,"body":[]}\n'),
      () => undefined,
    );
    expect(body).toEqual([]);
    await expect(
      readOperation(chunks('{"type":"progress","progress":"half"}\n'), () => undefined),
    ).rejects.toThrow(/unexpected line/);
  });
});
