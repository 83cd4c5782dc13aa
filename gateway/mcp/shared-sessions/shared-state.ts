import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../../kernel/logger.ts';
import type { Upstreams } from '../../../runners/upstream.port.ts';
import type { SessionState, Subscription } from '../session-state.ts';
import type { SessionRecord, SessionStore } from './session-store.ts';

export interface SharedState extends SessionState {
  /** Takes on what another gateway changed, as the store has it now. */
  refresh(now: SessionRecord): void;
}

export interface SharedStateDeps {
  store: SessionStore;
  upstreams: Upstreams;
  logger: Logger;
  /** Tells the other gateways this session's state changed. */
  changed(): Promise<void>;
}

/**
 * The state of a shared session as one gateway's copy holds it: written through to the store (and
 * announced) before the client's request is answered; another gateway's changes arrive by refresh.
 * The session's caller id is its hash, the same on every gateway, so that the upstreams count its
 * subscriptions once whichever gateway made or ends them.
 */
export function sharedState(record: SessionRecord, deps: SharedStateDeps): SharedState {
  const { hash } = record;
  let level = record.logLevel;
  let subscribed = new Map(Object.entries(record.subscriptions));

  /**
   * Asks the upstreams again for a subscription this session holds: they count per caller, so the
   * upstream is not asked twice, but this gateway now hears the updates (it listens to a server's
   * updates while a caller here is subscribed), and an upstream that restarted since is told again.
   */
  const follow = (s: Subscription, subscribed: boolean) =>
    deps.upstreams
      .request(
        s.serverId,
        subscribed ? 'resources/subscribe' : 'resources/unsubscribe',
        { uri: s.uri },
        { caller: hash },
      )
      .catch((e: unknown) =>
        deps.logger.warn(
          { err: e, serverId: s.serverId, uri: s.uri },
          'could not follow a shared subscription',
        ),
      );
  for (const s of subscribed.values()) void follow(s, true);

  return {
    caller: hash,
    endsWithCopy: false,
    logLevel: () => level,
    async setLogLevel(now: LoggingLevel) {
      level = now;
      await deps.store.setLogLevel(hash, now);
      await deps.changed();
    },
    subscriptions: () => subscribed,
    async subscribe(asked, s) {
      subscribed.set(asked, s);
      await deps.store.subscribe(hash, asked, s);
      await deps.changed();
    },
    async unsubscribe(asked) {
      subscribed.delete(asked);
      await deps.store.unsubscribe(hash, asked);
      await deps.changed();
    },
    refresh(now) {
      level = now.logLevel;
      const next = new Map(Object.entries(now.subscriptions));
      for (const [asked, s] of next) if (!subscribed.has(asked)) void follow(s, true);
      for (const [asked, s] of subscribed) if (!next.has(asked)) void follow(s, false);
      subscribed = next;
    },
  };
}
