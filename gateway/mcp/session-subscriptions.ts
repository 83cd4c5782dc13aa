import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../kernel/logger.ts';
import type { CallOptions, Upstreams } from '../../runners/upstream.port.ts';
import { toJsonRpcError } from '../error-mapping.ts';

type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1];

/** A URI as a session subscribed to it, and what it is on its server. */
interface Subscription {
  serverId: string;
  /** The server's own URI. */
  uri: string;
}

export interface SubscriptionDeps {
  upstreams: Upstreams;
  logger: Logger;
  /** This session as a caller of the upstreams (they count subscriptions per caller). */
  caller: string;
  relay(extra: Extra): CallOptions;
  /**
   * The server a URI on this endpoint belongs to, and its own URI there; throws the JSON-RPC error
   * to answer (unknown, not allowed, server gone).
   */
  resolve(uri: string): Promise<Subscription>;
}

/**
 * Resource subscriptions of one session. An upstream's session is shared by every client, so the
 * upstreams count subscriptions per caller (this session) and this session forwards only the
 * updates of the URIs it subscribed to, under the URIs it subscribed with (on the aggregate
 * endpoint those may be wrapped or plain). When it ends, whatever it still holds is unsubscribed.
 */
export function forwardResourceUpdates(server: Server, deps: SubscriptionDeps): void {
  /** The endpoint's URI → what it is on its server. */
  const subscribed = new Map<string, Subscription>();
  let stopUpdates: (() => void) | undefined;
  const release = (s: Subscription, options: CallOptions) =>
    deps.upstreams.request(s.serverId, 'resources/unsubscribe', { uri: s.uri }, options);

  server.setRequestHandler(SubscribeRequestSchema, async (r, extra) => {
    const { uri } = r.params;
    if (subscribed.has(uri)) return {};
    const target = await deps.resolve(uri);
    // Listening before the upstream subscribes: its first update may come right after its answer.
    subscribed.set(uri, target);
    stopUpdates ??= deps.upstreams.onResourceUpdated((serverId, updated) => {
      for (const [asked, s] of subscribed) {
        if (s.serverId !== serverId || s.uri !== updated) continue;
        void server.sendResourceUpdated({ uri: asked }).catch(() => undefined);
      }
    });
    try {
      return await deps.upstreams.request(
        target.serverId,
        'resources/subscribe',
        { ...r.params, uri: target.uri },
        deps.relay(extra),
      );
    } catch (e) {
      subscribed.delete(uri);
      throw toJsonRpcError(e);
    }
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (r, extra) => {
    const s = subscribed.get(r.params.uri);
    if (s === undefined) return {};
    subscribed.delete(r.params.uri);
    try {
      return await release(s, deps.relay(extra));
    } catch (e) {
      throw toJsonRpcError(e);
    }
  });
  // Every way a session ends (DELETE, idle reaper, shutdown, a sessionless request answered)
  // closes its transport, which lands here.
  server.onclose = () => {
    stopUpdates?.();
    for (const s of subscribed.values()) {
      release(s, { caller: deps.caller }).catch((e: unknown) =>
        deps.logger.warn(
          { err: e, serverId: s.serverId, uri: s.uri },
          'could not release a resource subscription',
        ),
      );
    }
    subscribed.clear();
  };
}
