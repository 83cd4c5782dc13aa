import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { BenchContext } from './context.ts';
import { alternate, latency, type PairResult, throughput } from './load.ts';
import type { Note, Row } from './report.ts';

/** One echo call of the 2026-07-28 revision: a POST on its own, no session. */
function statelessEcho(url: string, authorization: string): () => Promise<void> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name: 'everything__echo',
      arguments: { message: 'bench' },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
  const headers = {
    authorization,
    'content-type': 'application/json',
    accept: 'application/json',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'everything__echo',
  };
  return async () => {
    const res = await fetch(`${url}/mcp`, { method: 'POST', headers, body });
    const answer = (await res.json()) as { result?: { isError?: boolean } };
    if (res.status !== 200 || !answer.result || answer.result.isError)
      throw new Error(`stateless echo answered ${res.status}: ${JSON.stringify(answer)}`);
  };
}

/**
 * The 2026-07-28 stateless path against the 2025-11-25 session path, on the same gateway, the
 * same echo, alternating: sequential and with `sessions.length` clients at once (each session
 * client against one stateless worker). Aim (issue 11): no slower than the session path.
 */
export async function statelessVsSessions(
  ctx: BenchContext,
  mode: string,
  url: string,
  authorization: string,
  sessions: Client[],
): Promise<{ rows: Row[]; notes: Note[] }> {
  const bench = `gateway ${mode} 2026-07-28`;
  const stateless = statelessEcho(url, authorization);
  const rows: Row[] = [];
  const notes: Note[] = [];
  for (const concurrency of [1, sessions.length]) {
    ctx.log(`gateway (${mode}): stateless 2026-07-28 echo vs the session path at ${concurrency} concurrent`);
    const r: PairResult = await alternate({
      subject: async () => stateless(),
      baseline: async (worker) => {
        await sessions[worker]!.callTool({ name: 'everything__echo', arguments: { message: 'bench' } });
      },
      concurrency,
      sliceMs: ctx.scale(2_000, 1_000),
      rounds: ctx.scale(3, 2),
      warmupMs: ctx.scale(500, 300),
    });
    const label = concurrency === 1 ? 'sequential' : `${concurrency} clients`;
    const s = latency(r.subject);
    const b = latency(r.baseline);
    const baselineLabel = 'the 2025-11-25 session path, same run';
    rows.push(
      {
        bench,
        metric: `echo, ${label}: p50 latency`,
        unit: 'ms',
        value: s.p50,
        baseline: b.p50,
        baselineLabel,
        better: 'lower',
        aim: { text: 'no slower than the session path (within 10%)', met: s.p50 <= b.p50 * 1.1 },
      },
      {
        bench,
        metric: `echo, ${label}: calls/s`,
        unit: 'calls/s',
        value: throughput(r.subject),
        baseline: throughput(r.baseline),
        baselineLabel,
        better: 'higher',
        aim: {
          text: 'no slower than the session path (within 10%)',
          met: throughput(r.subject) >= throughput(r.baseline) * 0.9,
        },
      },
    );
    notes.push({
      bench,
      text: `${label}: stateless p99 ${s.p99.toFixed(2)} ms, session path p99 ${b.p99.toFixed(2)} ms`,
    });
  }
  return { rows, notes };
}
