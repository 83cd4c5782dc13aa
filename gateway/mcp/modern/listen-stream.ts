import type { ServerResponse } from 'node:http';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  createSessionServer,
  type McpSessionDeps,
  type SessionIdentity,
  sessionCapabilities,
} from '../session-server.ts';
import { localSessionState } from '../session-state.ts';
import type { ModernRequest } from './envelope.ts';
import { writeEvent } from './modern-endpoint.ts';
import type { ModernTarget } from './request-flow.ts';

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
/** A comment line every so often keeps proxies and idle timeouts from cutting a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** What a client opts in to on `subscriptions/listen` (2026-07-28 SubscriptionFilter). */
const filterSchema = z.object({
  toolsListChanged: z.boolean().optional(),
  promptsListChanged: z.boolean().optional(),
  resourcesListChanged: z.boolean().optional(),
  resourceSubscriptions: z.array(z.string().min(1).max(2048)).max(100).optional(),
});
type Filter = z.infer<typeof filterSchema>;

/** Which notification each filter field lets through. */
const LIST_CHANGED: Record<string, keyof Filter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

/** An open listen stream: notified like a session (its server's list_changed), ended with the stream. */
export interface ListenStream {
  server: Server;
  /** Ends the stream the graceful way: its result, then the end of the response. */
  close(): Promise<void>;
  /** Ends it at once (the credential no longer holds, a cap). */
  refuse(reason: string): void;
  /** Called once, however the stream ends. */
  onEnd?: () => void;
}

/** The filter a listen request asks for, or the reason it is not one. */
export function listenFilter(request: ModernRequest): Filter | string {
  const parsed = filterSchema.safeParse(request.params.notifications ?? {});
  return parsed.success ? parsed.data : `Invalid params: notifications: ${z.prettifyError(parsed.error)}`;
}

/**
 * `subscriptions/listen` (2026-07-28): a long-lived response stream carrying the notifications the
 * client opted in to and the endpoint can give — list changes, and updates of the resources it
 * names — each tagged with the subscription's id (the request's). It opens with
 * `notifications/subscriptions/acknowledged` naming what is honoured. Behind it is the same session
 * server a 2025 session has: its list_changed are sent to it (the caller registers the stream with
 * the sessions), its resource subscriptions go through the same resolution and authorization, and
 * closing it releases them.
 */
export async function openListenStream(
  deps: McpSessionDeps,
  target: ModernTarget,
  request: ModernRequest,
  filter: Filter,
  identity: SessionIdentity,
  res: ServerResponse,
): Promise<ListenStream> {
  const capabilities = sessionCapabilities(target.scope, target.capabilities);
  const server = createSessionServer(
    deps,
    target.scope,
    identity,
    target.capabilities,
    localSessionState('off'),
  );
  const [client, served] = InMemoryTransport.createLinkedPair();
  const pending = new Map<string, (ok: boolean) => void>();
  const honoured: Filter = {
    ...(filter.toolsListChanged && capabilities.tools?.listChanged && { toolsListChanged: true }),
    ...(filter.promptsListChanged && capabilities.prompts?.listChanged && { promptsListChanged: true }),
    ...(filter.resourcesListChanged && capabilities.resources?.listChanged && { resourcesListChanged: true }),
  };
  const tag = { [SUBSCRIPTION_ID]: request.id };
  const write = (message: unknown) => writeEvent(res, message);
  let open = false;
  client.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      pending.get(String(message.id))?.(isJSONRPCResultResponse(message));
      return;
    }
    if (!open || !('method' in message) || 'id' in message) return;
    const field = LIST_CHANGED[message.method];
    const wanted =
      field !== undefined ? honoured[field] === true : message.method === 'notifications/resources/updated';
    if (wanted) write({ ...message, params: { ...message.params, _meta: tag } });
  };
  await server.connect(served);
  await client.start();

  // Subscribed before the acknowledgement, which names only the URIs that could be.
  const subscribe = (uri: string, i: number) =>
    new Promise<boolean>((resolve) => {
      const id = `listen-${i}`;
      pending.set(id, resolve);
      void client.send({ jsonrpc: '2.0', id, method: 'resources/subscribe', params: { uri } });
    });
  if (filter.resourceSubscriptions?.length && capabilities.resources?.subscribe) {
    const uris = filter.resourceSubscriptions;
    const ok = await Promise.all(uris.map(subscribe));
    const subscribed = uris.filter((_, i) => ok[i]);
    if (subscribed.length > 0) honoured.resourceSubscriptions = subscribed;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  write({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: honoured, _meta: tag },
  });
  open = true;
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();

  let ended = false;
  const stream: ListenStream = {
    server,
    async close() {
      if (ended) return;
      write({ jsonrpc: '2.0', id: request.id, result: { resultType: 'complete', _meta: tag } });
      res.end();
    },
    refuse() {
      res.destroy();
    },
  };
  res.on('close', () => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    void server.close().catch(() => undefined);
    stream.onEnd?.();
  });
  return stream;
}
