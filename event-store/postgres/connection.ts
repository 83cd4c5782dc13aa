import { PGlite, types } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import { type PGliteClient, type PGliteCompiler, startPGliteThread } from './pglite-thread.ts';

/**
 * One SQL database, either a PostgreSQL server (through a `pg` pool) or PGlite (Postgres compiled to
 * WebAssembly, in-process). Both speak the same SQL, so the event store, read models, projections and
 * the leader lock run the same queries on either.
 *
 * `int8`/`bigint` columns come back as decimal strings on both (pg's default; PGlite is configured
 * to match): callers convert with `BigInt(...)`, so no value above 2^53 is silently rounded.
 */
export interface SqlConnection {
  readonly kind: 'pg' | 'pglite';
  // biome-ignore lint/suspicious/noExplicitAny: each user casts to its own table interfaces
  readonly db: Kysely<any>;
  /**
   * LISTEN on `channel` (a lower-case SQL identifier); `onNotify` gets each NOTIFY payload. Resolves
   * once the LISTEN is active. The returned function stops listening. Notifications can be lost
   * (e.g. while a pg connection is re-established); after such a gap every listener is called once
   * with an empty payload, so treat a notification as "look again", never as the data itself.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const CHANNEL_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function assertChannel(channel: string): void {
  if (!CHANNEL_RE.test(channel)) throw new Error(`invalid LISTEN channel name: ${channel}`);
}

/** Listener bookkeeping shared by both connection kinds. */
class Listeners {
  private readonly byChannel = new Map<string, Set<(payload: string) => void>>();

  /** Returns true when this is the channel's first listener (the caller must LISTEN). */
  add(channel: string, fn: (payload: string) => void): boolean {
    let set = this.byChannel.get(channel);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.byChannel.set(channel, set);
    }
    set.add(fn);
    return first;
  }

  /** Returns true when the channel has no listener left (the caller must UNLISTEN). */
  remove(channel: string, fn: (payload: string) => void): boolean {
    const set = this.byChannel.get(channel);
    if (!set) return false;
    set.delete(fn);
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  dispatch(channel: string, payload: string): void {
    for (const fn of this.byChannel.get(channel) ?? []) {
      try {
        fn(payload);
      } catch {
        // One listener's failure must not starve the others of their wake-up.
      }
    }
  }

  channels(): string[] {
    return [...this.byChannel.keys()];
  }

  wakeAll(): void {
    for (const channel of this.channels()) this.dispatch(channel, '');
  }

  clear(): void {
    this.byChannel.clear();
  }
}

export interface OpenPostgresOptions {
  /** postgres:// connection string. */
  url: string;
  /** Pool size (default 10). The LISTEN connection is extra. */
  max?: number;
  /** Errors of idle pool clients and of the LISTEN connection; they are recovered from, not thrown. */
  onError?: (error: Error) => void;
}

/**
 * Opens a PostgreSQL server: a `pg` pool behind Kysely, plus one dedicated connection for LISTEN
 * (opened on the first `listen`) that reconnects with backoff when it drops.
 */
export function openPostgres(options: OpenPostgresOptions): SqlConnection {
  const onError = options.onError ?? (() => {});
  const pool = new pg.Pool({ connectionString: options.url, max: options.max ?? 10 });
  // An idle client dying (server restart, network) emits on the pool; unhandled, it kills the process.
  pool.on('error', onError);
  // So does a checked-out client whose server ends while it holds a transaction between two
  // statements (an operator's pg_terminate_backend, a failover): the pool listens on idle clients
  // only. Its transaction fails on the next statement and rolls back; the process carries on.
  pool.on('connect', (client) => client.on('error', onError));
  // biome-ignore lint/suspicious/noExplicitAny: see SqlConnection.db
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Listeners();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const quote = (channel: string) => `"${channel}"`;

  async function connect(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: options.url });
    c.on('notification', (msg) => listeners.dispatch(msg.channel, msg.payload ?? ''));
    const lost = (err?: Error) => {
      if (err) onError(err);
      if (client !== c) return;
      client = undefined;
      c.removeAllListeners('end');
      c.end().catch(() => {});
      scheduleReconnect(250);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      for (const channel of listeners.channels()) await c.query(`LISTEN ${quote(channel)}`);
    } catch (err) {
      c.removeAllListeners('end');
      await c.end().catch(() => {});
      throw err;
    }
    return c;
  }

  function scheduleReconnect(delayMs: number): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || listeners.channels().length === 0) return;
      ensureClient().then(
        // Whatever was notified while we were away is gone: make every listener look again.
        () => listeners.wakeAll(),
        (err: Error) => {
          onError(err);
          scheduleReconnect(Math.min(delayMs * 2, 5_000));
        },
      );
    }, delayMs);
    retryTimer.unref();
  }

  function ensureClient(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    if (!connecting) {
      connecting = connect().then(
        (c) => {
          connecting = undefined;
          if (closed) {
            c.end().catch(() => {});
            throw new Error('SQL connection closed');
          }
          client = c;
          return c;
        },
        (err: unknown) => {
          connecting = undefined;
          throw err;
        },
      );
    }
    return connecting;
  }

  return {
    kind: 'pg',
    db,
    async listen(channel, onNotify) {
      assertChannel(channel);
      if (closed) throw new Error('SQL connection closed');
      const first = listeners.add(channel, onNotify);
      try {
        const c = await ensureClient();
        // A fresh client may already LISTEN on this channel; a second LISTEN is a no-op.
        if (first) await c.query(`LISTEN ${quote(channel)}`);
      } catch (err) {
        listeners.remove(channel, onNotify);
        throw err;
      }
      return async () => {
        if (listeners.remove(channel, onNotify) && client) {
          await client.query(`UNLISTEN ${quote(channel)}`).catch(() => {});
        }
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      listeners.clear();
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => {});
      }
      await db.destroy();
    },
  };
}

/**
 * A FIFO mutex. PGlite is a single Postgres session: two interleaved Kysely transactions would run
 * inside one another, so the whole session is lent to one user (query or transaction) at a time.
 */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => next);
    await previous;
    return release;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * Wraps the PGlite driver so that a connection is held exclusively from acquire to release —
 * which, for a transaction, spans BEGIN … COMMIT. The session is lent on as soon as COMMIT or
 * ROLLBACK is sent, before its answer: PGlite runs what it is sent in order, so the next user's
 * statements run after it, and the round trip is not spent holding everyone else back.
 */
class ExclusiveDriver implements Driver {
  private readonly releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(
    private readonly inner: Driver,
    private readonly mutex: Mutex,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.mutex.acquire();
    try {
      const connection = await this.inner.acquireConnection();
      this.releases.set(connection, release);
      return connection;
    } catch (err) {
      release();
      throw err;
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    const sent = this.inner.commitTransaction(connection);
    this.lendOn(connection);
    return sent;
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const sent = this.inner.rollbackTransaction(connection);
    this.lendOn(connection);
    return sent;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.releaseConnection(connection);
    } finally {
      this.lendOn(connection);
    }
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  private lendOn(connection: DatabaseConnection): void {
    this.releases.get(connection)?.();
    this.releases.delete(connection);
  }
}

export interface OpenPGliteOptions {
  /** A directory on disk (created if missing), or `'memory://'` for a throw-away database. */
  dataDir: string;
  /**
   * Run PGlite on a worker thread (default true): its CPU then never blocks the event loop that
   * serves HTTP and MCP. False runs it on the calling thread (a little less latency per query
   * when nothing else competes for the loop).
   */
  thread?: boolean;
  /**
   * On the worker thread: compile PostgreSQL's WebAssembly to baseline machine code only (default)
   * or optimise its hot functions too — ~60 MB more resident for ~10% more calls/s (see
   * docs/benchmarks.md).
   */
  compiler?: PGliteCompiler;
}

/**
 * Opens PGlite (embedded mode): data on disk under `dataDir`, or in memory for `'memory://'`.
 * Queries and transactions are serialized, because PGlite is a single session.
 */
export async function openPGlite(options: OpenPGliteOptions): Promise<SqlConnection> {
  const client =
    options.thread === false
      ? await pgliteHere(options.dataDir)
      : await startPGliteThread(options.dataDir, options.compiler ?? 'baseline');
  const mutex = new Mutex();
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new ExclusiveDriver(new PGliteDriver(client), mutex),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
  // biome-ignore lint/suspicious/noExplicitAny: see SqlConnection.db
  const db = new Kysely<any>({ dialect });
  const listeners = new Listeners();
  // Pending too, so a second listener of a channel also waits until the LISTEN is active.
  const unlistenFns = new Map<string, Promise<() => Promise<void>>>();
  let closed = false;

  return {
    kind: 'pglite',
    db,
    async listen(channel, onNotify) {
      assertChannel(channel);
      if (closed) throw new Error('SQL connection closed');
      if (listeners.add(channel, onNotify)) {
        // Through the mutex: a LISTEN issued inside someone else's open transaction would be
        // undone by that transaction's rollback.
        unlistenFns.set(
          channel,
          mutex.run(() => client.listen(channel, (payload) => listeners.dispatch(channel, payload))),
        );
      }
      try {
        await unlistenFns.get(channel);
      } catch (err) {
        if (listeners.remove(channel, onNotify)) unlistenFns.delete(channel);
        throw err;
      }
      return async () => {
        if (!listeners.remove(channel, onNotify)) return;
        const pending = unlistenFns.get(channel);
        unlistenFns.delete(channel);
        const unlisten = await pending?.catch(() => undefined);
        if (unlisten && !closed) await mutex.run(() => unlisten());
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      unlistenFns.clear();
      // Waits for the running query or transaction; the driver's destroy closes PGlite.
      await mutex.run(() => db.destroy());
    },
  };
}

/** PGlite on this thread, behind the same small client surface as the worker thread's. */
async function pgliteHere(dataDir: string): Promise<PGliteClient> {
  const pgliteOptions = {
    // Match pg: int8 as a decimal string, never a lossy number.
    parsers: { [types.INT8]: (value: string) => value },
  };
  // Without a data directory PGlite keeps everything in memory (and leaves no `memory:` folder behind).
  const client =
    dataDir === 'memory://'
      ? await PGlite.create(pgliteOptions)
      : await PGlite.create(dataDir, pgliteOptions);
  return {
    async query(sql, params, options) {
      if (options?.begin) await client.query('BEGIN');
      return client.query(sql, params);
    },
    listen: (channel, onNotify) => client.listen(channel, onNotify),
    close: () => client.close(),
  };
}

/**
 * Kysely over a PGlite client: one session, transactions as BEGIN/COMMIT on it. Each statement is
 * a round trip to the database thread, so BEGIN travels with the transaction's first statement,
 * and a transaction that ran none sends nothing at all.
 */
class PGliteDriver implements Driver {
  private readonly opening = new WeakSet<DatabaseConnection>();

  constructor(private readonly client: PGliteClient) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    const { client, opening } = this;
    const connection: DatabaseConnection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        const begin = opening.delete(connection);
        const r = await client.query(query.sql, [...query.parameters], { begin });
        return {
          rows: r.rows as R[],
          ...(r.affectedRows !== undefined && { numAffectedRows: BigInt(r.affectedRows) }),
        };
      },
      streamQuery(): AsyncIterableIterator<QueryResult<never>> {
        throw new Error('PGlite does not stream query results');
      },
    };
    return connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.opening.add(connection);
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.end(connection, 'COMMIT');
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.end(connection, 'ROLLBACK');
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {
    await this.client.close();
  }

  /** Sends COMMIT or ROLLBACK at once (ExclusiveDriver lends the session on right after). */
  private async end(connection: DatabaseConnection, statement: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (this.opening.delete(connection)) return;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }
}
