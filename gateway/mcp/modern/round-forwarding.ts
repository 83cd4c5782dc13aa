import { z } from 'zod';
import type { Bus, Closeable } from '../../../bus/bus.port.ts';
import type { ModernRequest } from './envelope.ts';
import type { InputRounds } from './input-rounds.ts';
import { type ForwardRound, type ModernReply, serveForwardedRound } from './request-flow.ts';

/**
 * A 2026-07-28 client holds no session, so behind a load balancer its retry of an `input_required`
 * round may reach another gateway than the one holding the upstream's open call. That gateway
 * sends the retry, as it checked it at its edge, to the holder named in the state, on the bus
 * (`mcp.rounds.<gatewayId>`, core NATS request and reply), and answers the client what the holder
 * answered. The holder checks the seal and the caller as for a retry of its own.
 */
const subjectOf = (gatewayId: string) => `mcp.rounds.${gatewayId}`;

const json = z.record(z.string(), z.unknown());
const forwardedSchema = z.object({
  /** The principal the receiving gateway authenticated. */
  owner: z.string().max(200),
  request: z.object({
    id: z.union([z.string().max(200), z.number()]),
    method: z.string().max(64),
    params: json,
    version: z.string().max(64),
    clientCapabilities: json,
    logLevel: z.string().max(16),
    inputResponses: z.record(z.string().max(128), json).optional(),
    requestState: z.string().max(512),
  }),
});

const replySchema = z.object({ status: z.number().int(), body: json });

/** Answers the retries other gateways send here for the rounds this gateway holds. */
export function serveRoundsForwardedHere(bus: Bus, rounds: InputRounds): Promise<Closeable> {
  return bus.serveSubject({
    subject: subjectOf(rounds.gatewayId),
    handler: async (message) => {
      const { owner, request } = forwardedSchema.parse(message.payload);
      return serveForwardedRound(rounds, owner, request as ModernRequest);
    },
  });
}

/** Sends a retry to the gateway holding its round (waiting as long as a round may, `idleMs`). */
export function forwardRoundsOver(bus: Bus, idleMs: number): ForwardRound {
  return async (holder, owner, request, signal): Promise<ModernReply> => {
    const reply = await bus.requestSubject(
      subjectOf(holder),
      { owner, request },
      { timeoutMs: idleMs, signal },
    );
    return replySchema.parse(reply);
  };
}
