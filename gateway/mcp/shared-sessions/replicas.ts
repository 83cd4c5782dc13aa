import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Bus, Closeable } from '../../../bus/bus.port.ts';
import type { Logger } from '../../../kernel/logger.ts';

/**
 * What the gateways serving shared sessions tell each other, on the bus (core subjects: not stored,
 * at most once; a gateway that misses one reads the session store at the session's next request):
 *
 * | subject                          | what                                                             |
 * |----------------------------------|------------------------------------------------------------------|
 * | `mcp.sessions.changed`           | a session's state changed (`changed`) or it ended (`ended`)      |
 * | `mcp.sessions.answer.<gatewayId>`| a client's answer to a request that gateway sent it (sampling, …)|
 */
export interface Replicas {
  /** This gateway's id: the prefix of the ids of the requests it sends to clients. */
  readonly gatewayId: string;
  changed(session: string, kind: 'changed' | 'ended'): Promise<void>;
  /** Hands a client's answer to the gateway that sent the request it answers. */
  forwardAnswer(gatewayId: string, session: string, message: JSONRPCMessage): Promise<void>;
  close(): Promise<void>;
}

export interface ReplicaListeners {
  /** `from`: the gateway that changed it (a gateway hears its own announcements too). */
  onChanged(session: string, kind: 'changed' | 'ended', from: string): void;
  onAnswer(session: string, message: JSONRPCMessage): void;
}

const changedSchema = z.object({
  session: z.string().max(64),
  kind: z.enum(['changed', 'ended']),
  from: z.string().max(64),
});
const answerSchema = z.object({
  session: z.string().max(64),
  // An answer as the client sent it, already parsed as JSON-RPC by the gateway that received it.
  message: z.looseObject({ jsonrpc: z.literal('2.0'), id: z.union([z.string(), z.number()]) }),
});

export async function connectReplicas(
  bus: Bus,
  gatewayId: string,
  listeners: ReplicaListeners,
  logger: Logger,
): Promise<Replicas> {
  const subscriptions: Closeable[] = [
    await bus.subscribeSubject({
      subject: 'mcp.sessions.changed',
      handler: (m) => {
        const parsed = changedSchema.safeParse(m.payload);
        if (parsed.success) listeners.onChanged(parsed.data.session, parsed.data.kind, parsed.data.from);
        else logger.warn('ignored a malformed mcp.sessions.changed message');
      },
    }),
    await bus.subscribeSubject({
      subject: `mcp.sessions.answer.${gatewayId}`,
      handler: (m) => {
        const parsed = answerSchema.safeParse(m.payload);
        if (parsed.success) listeners.onAnswer(parsed.data.session, parsed.data.message as JSONRPCMessage);
        else logger.warn('ignored a malformed mcp.sessions.answer message');
      },
    }),
  ];
  return {
    gatewayId,
    changed: (session, kind) =>
      bus.publishSubject('mcp.sessions.changed', { session, kind, from: gatewayId }),
    forwardAnswer: (to, session, message) =>
      bus.publishSubject(`mcp.sessions.answer.${to}`, { session, message }),
    async close() {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
    },
  };
}
