import { parentPort, workerData } from 'node:worker_threads';
import { openPostgres } from '../postgres/connection.ts';
import { type VerifyRange, verifyRange } from './verify-range.ts';

/*
 * A thread of parallel verification (parallel-verify.ts): verifies the ranges it is sent, one at a
 * time, on a connection of its own; `close` ends it.
 */

export interface VerifyThreadData {
  url: string;
  publicKeyPem: string | undefined;
}

export type VerifyThreadRequest = { range: VerifyRange } | { close: true };

const { url, publicKeyPem } = workerData as VerifyThreadData;
const port = parentPort!;
// Events, links and the streams a page meets first are read at once.
const sql = openPostgres({ url, max: 3 });

port.on('message', async (request: VerifyThreadRequest) => {
  if ('close' in request) {
    await sql.close().catch(() => undefined);
    port.close();
    return;
  }
  try {
    port.postMessage({ report: await verifyRange(sql.db, request.range, publicKeyPem) });
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
