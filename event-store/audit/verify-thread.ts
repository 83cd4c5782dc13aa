import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
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
// Events, links and the streams a page meets first are read at once. A pool of its own rather than
// connection.ts, which would load PGlite into every thread.
const pool = new pg.Pool({ connectionString: url, max: 3 });
// A connection that fails between queries fails the range that uses it, not the thread.
pool.on('error', () => undefined);
pool.on('connect', (client) => client.on('error', () => undefined));
// biome-ignore lint/suspicious/noExplicitAny: the tables are typed by event-chain.ts
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });

port.on('message', async (request: VerifyThreadRequest) => {
  if ('close' in request) {
    await db.destroy().catch(() => undefined);
    port.close();
    return;
  }
  try {
    port.postMessage({ report: await verifyRange(db, request.range, publicKeyPem) });
  } catch (err) {
    port.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
