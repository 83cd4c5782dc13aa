import type { Logger } from '../../kernel/logger.ts';
import { CallRouter } from './call-router.ts';
import type { Connection } from './connection.ts';

export interface CallerSessionsOptions {
  /** Opens one more session of the instance's upstream, its messages routed by `router`. */
  open(router: CallRouter): Promise<Connection>;
  logger: Logger;
  /** Sessions at most (default 32); past it, calls share the instance's session. */
  max?: number;
  /** A session with no call for this long is closed (default 60 s). */
  idleMs?: number;
  /**
   * A session is closed to make room for another caller only after this long without a call
   * (default 10 s): callers calling steadily past the cap share the instance's session rather
   * than close each other's processes between two calls.
   */
  evictAfterMs?: number;
}

interface CallerSession {
  router: CallRouter;
  connection: Promise<Connection>;
  lastUsed: number;
}

type Opened = Pick<CallerSession, 'router' | 'connection'>;

/**
 * An upstream session per caller, for transports that give a server's messages no reference to
 * the request they belong to (HTTP+SSE: one more session; stdio: one more process): what the upstream sends on a
 * caller's own session — log messages, sampling, elicitation, roots — can only be that caller's, so
 * it is delivered rather than refused when other callers' calls are in flight. The instance asks for
 * one only when its shared session carries another caller's call (UpstreamInstance.attempt): a
 * caller alone rides the shared session, so one client costs no process beyond the instance's own.
 * Opened at that call, closed after `idleMs` without one, or sooner to make room for another caller
 * (the least recently used, with no call for `evictAfterMs`), or as soon as its call ends for a caller that
 * makes one request only (`done`); past `max` sessions all busy, the instance's shared session
 * serves (and its messages are routed only when they cannot be another caller's).
 *
 * A session can be kept open ahead of need (a spare, within `max`; `warm`): a new caller takes it and
 * another is opened behind it, so a caller's first call does not wait for a process to start (1.3–1.7 s for
 * the conformance fixture under load; a 2026-07-28 request with a call in flight before it is such a
 * caller, with a deadline of 500 ms in the suite). A spare is never a session another caller used
 * (a caller's session is its own). A spare that fails or ends is not replaced until the next caller
 * comes (no restart loop); it is closed after `idleMs` without any caller.
 */
export class CallerSessions {
  private readonly sessions = new Map<string, CallerSession>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly evictAfterMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private spare: (Opened & { since: number }) | undefined;

  constructor(private readonly options: CallerSessionsOptions) {
    this.max = options.max ?? 32;
    this.idleMs = options.idleMs ?? 60_000;
    this.evictAfterMs = options.evictAfterMs ?? 10_000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 30_000));
    this.sweeper.unref();
  }

  /** The session of `caller` (opened now, or the spare, if it has none); undefined past the cap. */
  get(caller: string): CallerSession | undefined {
    if (this.closed) return undefined;
    let session = this.sessions.get(caller);
    if (!session) {
      if (this.sessions.size >= this.max) this.sweep();
      if (this.sessions.size >= this.max) this.evictLeastRecent();
      if (this.sessions.size >= this.max) return undefined;
      const opened: CallerSession = { ...(this.takeSpare() ?? this.open()), lastUsed: Date.now() };
      this.sessions.set(caller, opened);
      opened.connection.then(
        (c) => void c.closed.then(() => this.forget(caller, opened)),
        () => this.forget(caller, opened),
      );
      session = opened;
      this.warm();
    }
    session.lastUsed = Date.now();
    return session;
  }

  /** Whether `caller` has a session of its own. */
  has(caller: string): boolean {
    return this.sessions.has(caller);
  }

  /** `caller` makes no further request: its session, once it carries no call, is closed. */
  done(caller: string): void {
    const session = this.sessions.get(caller);
    if (session && session.router.size === 0) this.close(caller, session, 'its caller is done');
  }

  /** Opens the spare if there is none and the cap has room. */
  warm(): void {
    if (this.closed || this.spare || this.sessions.size >= this.max) return;
    const spare = { ...this.open(), since: Date.now() };
    this.spare = spare;
    const drop = () => {
      if (this.spare === spare) this.spare = undefined;
    };
    spare.connection.then((c) => void c.closed.then(drop), drop);
  }

  private takeSpare(): Opened | undefined {
    const spare = this.spare;
    this.spare = undefined;
    return spare;
  }

  private open(): Opened {
    const router = new CallRouter();
    return { router, connection: this.options.open(router) };
  }

  /** Sessions open besides the instance's own: callers' and the spare. */
  get size(): number {
    return this.sessions.size + (this.spare ? 1 : 0);
  }

  /** Calls in flight on the callers' sessions. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.router.size;
    return n;
  }

  /** A session that failed to carry a request is suspect: the caller's next call opens a fresh one. */
  abandon(caller: string, reason: string): void {
    const session = this.sessions.get(caller);
    if (!session) return;
    this.sessions.delete(caller);
    void session.connection.then((c) => c.abandon(reason)).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const spare = this.takeSpare();
    const all: Opened[] = [...this.sessions.values(), ...(spare ? [spare] : [])];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (s) => (await s.connection).close()));
  }

  private forget(caller: string, session: CallerSession): void {
    if (this.sessions.get(caller) === session) this.sessions.delete(caller);
  }

  /**
   * Makes room for a new caller: the session used least recently among those with no call in
   * flight for `evictAfterMs` is closed (a caller that stopped calling should not hold a session
   * for a minute while callers that are calling get none).
   */
  private evictLeastRecent(): void {
    const cutoff = Date.now() - this.evictAfterMs;
    let oldest: [string, CallerSession] | undefined;
    for (const entry of this.sessions) {
      const idle = entry[1].router.size === 0 && entry[1].lastUsed <= cutoff;
      if (idle && (!oldest || entry[1].lastUsed < oldest[1].lastUsed)) oldest = entry;
    }
    if (!oldest) return;
    this.close(...oldest, 'room for another caller');
  }

  private close(caller: string, s: CallerSession, why: string): void {
    this.sessions.delete(caller);
    void s.connection
      .then((c) => c.close(why))
      .catch((e: unknown) => this.options.logger.debug({ err: e }, 'closing a caller session failed'));
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    if (this.sessions.size === 0 && this.spare && this.spare.since < cutoff) {
      const spare = this.takeSpare()!;
      void spare.connection.then((c) => c.close('idle spare')).catch(() => undefined);
    }
    for (const [caller, s] of this.sessions) {
      if (s.router.size > 0 || s.lastUsed >= cutoff) continue;
      this.close(caller, s, 'idle');
    }
  }
}
