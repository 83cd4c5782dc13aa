import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageFile } from '../../kernel/package-files.ts';

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

/** How the database thread compiles PostgreSQL's WebAssembly (pglite-thread.mjs). */
export type PGliteCompiler = 'baseline' | 'optimizing';

const THREAD = packageFile('event-store/postgres/pglite-thread.mjs');

/**
 * Creates a PostgreSQL data directory in a process of its own that then exits: PGlite runs initdb
 * in a WebAssembly instance, and ~70 MB of what it allocated stayed in this process's memory even
 * after a thread that ran it had ended (resident 451 MB at /ready against 381 MB when the
 * directory already existed). The thread that serves the database opens a directory that exists.
 */
async function initializeInProcess(dataDir: string): Promise<void> {
  const child = spawn(process.execPath, [THREAD, dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2_000);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    throw new Error(`could not create the PGlite data directory ${dataDir} (exit ${code}): ${stderr.trim()}`);
  }
}

export async function startPGliteThread(
  dataDir: string,
  compiler: PGliteCompiler = 'baseline',
): Promise<PGliteClient> {
  if (dataDir !== 'memory://' && !existsSync(join(dataDir, 'PG_VERSION'))) await initializeInProcess(dataDir);
  const worker = new Worker(THREAD, { workerData: { dataDir, compiler } });
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
