import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../kernel/logger.ts';
import type { CallOptions, Upstreams } from '../../runners/upstream.port.ts';
import { toJsonRpcError } from '../error-mapping.ts';
import type { SessionState, Subscription } from './session-state.ts';

type Extra = Parameters<Parameters<Server['setRequestHandler']>[1]>[1];

export interface SubscriptionDeps {
  upstreams: Upstreams;
  logger: Logger;
  /** The session's subscriptions, and who it is to the upstreams (they count subscriptions per caller). */
  state: SessionState;
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
 * endpoint those may be wrapped or plain). A session of one connection unsubscribes what it still
 * holds when it ends; a shared session's are released by whoever ends it (releaseSubscriptions).
 *
 * Every copy of a shared session forwards the updates of its subscriptions, wherever they were
 * made: the copy whose gateway holds the client's stream (GET) delivers them, the others' transports
 * have no stream to put them on and drop them.
 */
export function forwardResourceUpdates(server: Server, deps: SubscriptionDeps): void {
  const { state } = deps;
  const stopUpdates = deps.upstreams.onResourceUpdated((serverId, updated) => {
    for (const [asked, s] of state.subscriptions()) {
      if (s.serverId !== serverId || s.uri !== updated) continue;
      void server.sendResourceUpdated({ uri: asked }).catch(() => undefined);
    }
  });

  server.setRequestHandler(SubscribeRequestSchema, async (r, extra) => {
    const { uri } = r.params;
    if (state.subscriptions().has(uri)) return {};
    const target = await deps.resolve(uri);
    // Recorded before the upstream subscribes: its first update may come right after its answer.
    await state.subscribe(uri, target);
    try {
      return await deps.upstreams.request(
        target.serverId,
        'resources/subscribe',
        { ...r.params, uri: target.uri },
        deps.relay(extra),
      );
    } catch (e) {
      await state.unsubscribe(uri).catch(() => undefined);
      throw toJsonRpcError(e);
    }
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (r, extra) => {
    const s = state.subscriptions().get(r.params.uri);
    if (s === undefined) return {};
    await state.unsubscribe(r.params.uri);
    try {
      return await deps.upstreams.request(
        s.serverId,
        'resources/unsubscribe',
        { uri: s.uri },
        deps.relay(extra),
      );
    } catch (e) {
      throw toJsonRpcError(e);
    }
  });
  // Every way a copy ends (DELETE, idle reaper, shutdown, a sessionless request answered) closes
  // its transport, which lands here.
  server.onclose = () => {
    stopUpdates();
    if (state.endsWithCopy)
      releaseSubscriptions(deps.upstreams, deps.logger, state.caller, state.subscriptions().values());
  };
}

/**
 * Unsubscribes a caller that is gone from what it still held. Harmless when repeated: the upstreams
 * count subscriptions per caller, and a caller that holds none is not counted.
 */
export function releaseSubscriptions(
  upstreams: Upstreams,
  logger: Logger,
  caller: string,
  held: Iterable<Subscription>,
): void {
  for (const s of [...held]) {
    upstreams
      .request(s.serverId, 'resources/unsubscribe', { uri: s.uri }, { caller })
      .catch((e: unknown) =>
        logger.warn(
          { err: e, serverId: s.serverId, uri: s.uri },
          'could not release a resource subscription',
        ),
      );
  }
}
