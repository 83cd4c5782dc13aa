import type { FastifyRequest } from 'fastify';
import type { CommandMeta } from '../kernel/decider.ts';
import { randomIds, uuidV5 } from '../kernel/ids.ts';

const ACTOR_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Who is asking. Until authentication lands, the caller names itself in `X-Switchyard-Actor`
 * (recorded on every event it causes); anonymous otherwise.
 */
export function actorOf(request: FastifyRequest): string {
  const h = request.headers['x-switchyard-actor'];
  const v = Array.isArray(h) ? h[0] : h;
  return v && ACTOR_RE.test(v) ? v : 'anonymous';
}

/**
 * Command metadata for a write. An `Idempotency-Key` header makes the command id deterministic, so a
 * client that retries after a lost answer appends nothing twice and gets the first answer back.
 */
export function commandMetaOf(request: FastifyRequest, operation: string, now: Date): CommandMeta {
  const actor = actorOf(request);
  const key = request.headers['idempotency-key'];
  const idemKey = Array.isArray(key) ? key[0] : key;
  const traceparent = request.headers.traceparent;
  return {
    commandId: idemKey ? uuidV5(`${actor}\n${operation}\n${idemKey}`) : randomIds.uuid(),
    actor,
    correlationId: String(request.id),
    traceparent: typeof traceparent === 'string' ? traceparent : undefined,
    issuedAt: now,
  };
}
