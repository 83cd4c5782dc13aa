import { randomUUID } from 'node:crypto';
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

/** A URI as a session subscribed to it, and what it is on its server. */
export interface Subscription {
  serverId: string;
  /** The server's own URI. */
  uri: string;
}

/**
 * What a session's client set on it (its log level, its resource subscriptions), and who it is to
 * the upstreams. A session held by one connection (WebSocket, stdio, a sessionless request) keeps
 * it in memory and ends with that connection; a Streamable HTTP session keeps it where every
 * gateway reads it (shared-sessions/), so that any gateway can serve the session's next request.
 */
export interface SessionState {
  /** This session as a caller of the upstreams: stable across gateways for a shared session. */
  readonly caller: string;
  /**
   * The least severe log level the client wants (logging/setLevel, or a 2026-07-28 request's
   * `_meta`); undefined: everything; 'off': nothing (a 2026-07-28 request that asked for none).
   */
  logLevel(): LoggingLevel | 'off' | undefined;
  setLogLevel(level: LoggingLevel): Promise<void>;
  /** The endpoint's URI → what it is on its server. */
  subscriptions(): ReadonlyMap<string, Subscription>;
  subscribe(asked: string, s: Subscription): Promise<void>;
  unsubscribe(asked: string): Promise<void>;
  /**
   * Whether the session ends when this copy of it closes, so that closing releases its
   * subscriptions. A shared session outlives any one gateway's copy: whoever ends it releases them.
   */
  readonly endsWithCopy: boolean;
  /**
   * What a stateless (2026-07-28) client declared with its request; a session's client declares
   * it at initialize instead.
   */
  readonly clientCapabilities?: Record<string, unknown>;
  /** How long a question to the client may wait for its answer; the SDK's default when absent. */
  readonly clientRequestTimeoutMs?: number;
  /** The state of one sessionless request: its caller makes no other (ClientSideHandlers.oneShot). */
  readonly oneShot?: boolean;
}

/** The state of a session that lives and dies with one connection (or one request). */
export function localSessionState(
  initialLevel?: LoggingLevel | 'off',
  client: Pick<SessionState, 'clientCapabilities' | 'clientRequestTimeoutMs' | 'oneShot'> = {},
): SessionState {
  let level: LoggingLevel | 'off' | undefined = initialLevel;
  const subscribed = new Map<string, Subscription>();
  return {
    caller: randomUUID(),
    logLevel: () => level,
    async setLogLevel(now) {
      level = now;
    },
    subscriptions: () => subscribed,
    async subscribe(asked, s) {
      subscribed.set(asked, s);
    },
    async unsubscribe(asked) {
      subscribed.delete(asked);
    },
    endsWithCopy: true,
    ...client,
  };
}
