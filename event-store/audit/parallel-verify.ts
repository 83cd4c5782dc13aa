import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { type ChainHead, EMPTY_HEAD } from './chain.ts';
import type { Checkpoint } from './signing.ts';
import type { VerifyReport } from './verify.ts';
import type { VerifyRange } from './verify-range.ts';
import type { VerifyThreadData, VerifyThreadRequest } from './verify-thread.ts';

/*
 * `audit verify` on several threads (docs/audit.md). The stored chain splits the log into ranges
 * that check on their own: a range starts from the stored link at its start (position, seq, chain
 * hash) and, for each stream, from the stream's last stored link before it. Those stored values are
 * trusted by the range and checked by the range that holds them, so:
 * - every range that lies before the first bad position verifies, and
 * - the first range that fails, fails at the first bad position, with the sequential walk's code.
 * The ranges' reports, merged in order up to the first failure, are the sequential walk's report.
 */

/** Fewer events than this in a range, and a thread's start costs more than it saves. */
export const MIN_RANGE_EVENTS = 50_000;
/**
 * More events than this in a range, and a thread's memory grows with the log: a range keeps one
 * entry per stream it meets (tool calls are streams of their own, a few events each).
 */
export const MAX_RANGE_EVENTS = 1_000_000;
/** Ranges per thread: a thread that finishes early takes another, so no thread idles at the end. */
const RANGES_PER_THREAD = 4;

/** The link numbers to split a chain of `headSeq` links at, for `threads` threads. */
export function splitSeqs(headSeq: bigint, threads: number, minRangeEvents = MIN_RANGE_EVENTS): bigint[] {
  const count = BigInt(Math.max(1, threads * RANGES_PER_THREAD));
  const byCount = (headSeq + count - 1n) / count;
  const least = BigInt(Math.max(1, minRangeEvents));
  const most = BigInt(Math.max(minRangeEvents, MAX_RANGE_EVENTS));
  const step = byCount < least ? least : byCount > most ? most : byCount;
  const seqs: bigint[] = [];
  for (let seq = step; seq < headSeq; seq += step) seqs.push(seq);
  return seqs;
}

/** The ranges between the stored links `starts` (in position order) and up to `through`. */
export function planRanges(
  starts: readonly ChainHead[],
  through: bigint,
  checkpoints: readonly Checkpoint[],
): VerifyRange[] {
  const froms = [EMPTY_HEAD, ...starts.filter((s) => s.position > 0n && s.position < through)];
  return froms.map((from, i) => {
    const end = i + 1 < froms.length ? froms[i + 1]!.position : through;
    return {
      from,
      through: end,
      checkpoints: checkpoints.filter((c) => c.position > from.position && c.position <= end),
      lastCheckpointBefore: checkpoints.filter((c) => c.position <= from.position).at(-1)?.position,
    };
  });
}

/** The ranges' reports (in range order, up to the first failure) as the report of one walk. */
export function mergeReports(reports: readonly VerifyReport[], through: bigint): VerifyReport {
  const merged: VerifyReport = {
    ok: true,
    checked: 0,
    sealedThrough: through,
    checkpoints: {
      verified: 0,
      signaturesChecked: reports[0]?.checkpoints.signaturesChecked ?? false,
      lastVerified: undefined,
    },
  };
  for (const r of reports) {
    merged.checked += r.checked;
    merged.checkpoints.verified += r.checkpoints.verified;
    merged.checkpoints.lastVerified = r.checkpoints.lastVerified ?? merged.checkpoints.lastVerified;
    if (!r.ok) return { ...merged, ok: false, ...(r.firstBad && { firstBad: r.firstBad }) };
  }
  return merged;
}

/**
 * Verifies the ranges on up to `threads` worker threads, each with a connection of its own to `url`,
 * and merges their reports. A range after one that failed is not started: it cannot change the answer.
 */
export async function verifyOnThreads(
  ranges: readonly VerifyRange[],
  options: { url: string; publicKeyPem: string | undefined; threads: number },
): Promise<VerifyReport> {
  const data: VerifyThreadData = { url: options.url, publicKeyPem: options.publicKeyPem };
  const workers = Array.from(
    { length: Math.max(1, Math.min(options.threads, ranges.length)) },
    () => new Worker(threadEntry(), { workerData: data }),
  );
  const reports: VerifyReport[] = [];
  let next = 0;
  let failedAt = Number.POSITIVE_INFINITY;
  try {
    await Promise.all(
      workers.map(async (worker) => {
        for (let i = next++; i < ranges.length && i < failedAt; i = next++) {
          const report = await ask(worker, { range: ranges[i]! });
          reports[i] = report;
          if (!report.ok) failedAt = Math.min(failedAt, i);
        }
      }),
    );
  } finally {
    await Promise.all(workers.map(close));
  }
  return mergeReports(reports.slice(0, Math.min(failedAt + 1, ranges.length)), ranges.at(-1)?.through ?? 0n);
}

/**
 * The thread's module. Bundled (bin/build.mjs), the thread is an entry of its own beside the chunk
 * that holds this code; from the sources (tsx, the tests), a bootstrap registers tsx in the thread.
 */
function threadEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./verify-thread-from-sources.mjs', import.meta.url)
    : new URL('./audit-verify-thread.js', import.meta.url);
}

function ask(worker: Worker, request: VerifyThreadRequest): Promise<VerifyReport> {
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: { report: VerifyReport } | { error: string }) => {
      done();
      if ('error' in m) reject(new Error(`audit verify: ${m.error}`));
      else resolve(m.report);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onExit = (code: number) => {
      done();
      reject(new Error(`audit verify: a verifying thread exited (code ${code})`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(request);
  });
}

/** Asks the thread to close its connection and end; ends it if it does not within a few seconds. */
async function close(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return; // exited already
  const exited = once(worker, 'exit').catch(() => undefined);
  worker.postMessage({ close: true } satisfies VerifyThreadRequest);
  const timer = setTimeout(() => void worker.terminate(), 5_000);
  await exited;
  clearTimeout(timer);
}
