import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * PGlite's client surface as the SQL connection uses it (query, listen, close), served by a PGlite
 * running on a worker thread (pglite-thread.mjs). Messages are structured clones, so parameters and
 * rows keep their Dates, bigints and byte arrays; a database error comes back as an Error with the
 * PostgreSQL fields (code, constraint, …) the store inspects.
 */
export interface PGliteClient {
  /** `begin`: open a transaction first, in the same round trip (see connection.ts PGliteDriver). */
  query(
    sql: string,
    params?: unknown[],
    options?: { begin?: boolean },
  ): Promise<{ rows: unknown[]; affectedRows?: number }>;
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

interface Reply {
  id?: number;
  value?: unknown;
  error?: Record<string, unknown> & { message: string };
  notify?: string;
  payload?: string;
  ready?: boolean;
}

const THREAD = new URL('./pglite-thread.mjs', import.meta.url);

/**
 * Creates a PostgreSQL data directory on a thread of its own that then exits: PGlite runs initdb in
 * a WebAssembly instance whose memory (~450 MB) the thread keeps for good, so the thread that serves
 * the database opens a directory that already exists.
 */
async function initializeOnThread(dataDir: string): Promise<void> {
  const worker = new Worker(THREAD, { workerData: { dataDir, initializeOnly: true } });
  const [code] = (await once(worker, 'exit')) as [number];
  if (code !== 0) throw new Error(`could not create the PGlite data directory ${dataDir} (exit ${code})`);
}

export async function startPGliteThread(dataDir: string): Promise<PGliteClient> {
  if (dataDir !== 'memory://' && !existsSync(join(dataDir, 'PG_VERSION'))) await initializeOnThread(dataDir);
  const worker = new Worker(THREAD, { workerData: { dataDir } });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, (payload: string) => void>();
  let next = 0;
  let failed: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', function first(m: Reply) {
      if (!m.ready) return;
      worker.off('message', first);
      worker.off('error', reject);
      resolve();
    });
  });
  worker.on('message', (m: Reply) => {
    if (m.notify !== undefined) {
      listeners.get(m.notify)?.(m.payload ?? '');
      return;
    }
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (!p) return;
    if (m.error) p.reject(Object.assign(new Error(m.error.message), m.error));
    else p.resolve(m.value);
  });
  worker.on('error', (e) => {
    failed = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  });
  await ready;
  // The database thread keeps the process alive only while a request waits for it.
  worker.unref();

  function call<T>(message: Record<string, unknown>): Promise<T> {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id });
    });
  }

  return {
    query: (sql, params = [], options = {}) =>
      call({ op: 'query', sql, params, begin: options.begin === true }),
    async listen(channel, onNotify) {
      listeners.set(channel, onNotify);
      await call({ op: 'listen', channel });
      return async () => {
        listeners.delete(channel);
        await call({ op: 'unlisten', channel });
      };
    },
    async close() {
      await call({ op: 'close' });
      await worker.terminate();
    },
  };
}
