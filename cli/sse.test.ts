import { describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from './sse.ts';

/** A body that arrives in the given chunks, split wherever they are split. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function all(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(body(chunks))) out.push(m);
  return out;
}

describe('readSse', () => {
  it('reads ids, named events and multi-line data, skipping comments and retry', async () => {
    expect(
      await all([
        'retry: 2000\n\n: heartbeat\n\nid: 7\ndata: {"a":1}\n\n',
        'event: end\ndata: x\ndata: y\n\n',
      ]),
    ).toEqual([
      { event: 'message', data: '{"a":1}', id: '7' },
      { event: 'end', data: 'x\ny', id: undefined },
    ]);
  });

  it('reassembles lines split across chunks, a CRLF split between its two halves included', async () => {
    expect(await all(['id: 4', '2\r', '\ndata: {"p":', '"42"}\r\n', '\r\n'])).toEqual([
      { event: 'message', data: '{"p":"42"}', id: '42' },
    ]);
  });

  it('drops an event the stream ended before its blank line', async () => {
    expect(await all(['id: 1\ndata: complete\n\nid: 2\ndata: cut off'])).toEqual([
      { event: 'message', data: 'complete', id: '1' },
    ]);
  });
});
