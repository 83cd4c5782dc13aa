import type { FastifyRequest } from 'fastify';
import type { CommandMeta } from '../kernel/decider.ts';
import { AppError } from '../kernel/errors.ts';
import { randomIds, uuidV5 } from '../kernel/ids.ts';
import { credentialLabel, type Principal } from '../kernel/principal.ts';
import { validTraceparent } from '../kernel/tracing.ts';
import type { TenantScope } from '../projections/tenant-scope.ts';

/**
 * Command metadata for a write by the authenticated caller: the principal is the actor (a header
 * cannot say otherwise), its tenant and credential id travel with it. An `Idempotency-Key` header
 * makes the command id deterministic — per caller, so two callers' keys never collide — so a client
 * that retries after a lost answer appends nothing twice and gets the first answer back.
 */
export function commandMetaOf(request: FastifyRequest, operation: string, now: Date): CommandMeta {
  const key = request.headers['idempotency-key'];
  const idemKey = Array.isArray(key) ? key[0] : key;
  const traceparent = request.headers.traceparent;
  return {
    ...actorMeta(request.principal),
    commandId: idemKey ? uuidV5(`${request.principal.id}\n${operation}\n${idemKey}`) : randomIds.uuid(),
    correlationId: String(request.id),
    traceparent: validTraceparent(traceparent),
    issuedAt: now,
    ifRevision: ifMatchRevision(request.headers['if-match']),
  };
}

/**
 * `If-Match: "<revision>"` (the ETag a read answered; weak or unquoted forms too) as a stream
 * revision; `*` or no header: no precondition. Anything else is refused before anything runs.
 */
export function ifMatchRevision(header: string | string[] | undefined): bigint | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return undefined;
  const m = /^(?:W\/)?(?:"(-1|0|[1-9][0-9]{0,18})"|(-1|0|[1-9][0-9]{0,18}))$/.exec(value);
  if (!m) {
    throw new AppError(
      'validation',
      'REQUEST.INVALID_IF_MATCH',
      'If-Match must be one revision as an ETag, e.g. "3" (from the resource\'s ETag)',
    );
  }
  return BigInt(m[1] ?? m[2]!);
}

/** The ETag of a resource that is one stream: its revision. */
export function etagOf(revision: bigint | string): string {
  return `"${revision}"`;
}

/** Who, in event metadata: the principal's id, tenant and credential id. */
export function actorMeta(principal: Principal): Pick<CommandMeta, 'actor' | 'tenant' | 'credential'> {
  return { actor: principal.id, tenant: principal.tenant, credential: credentialLabel(principal.credential) };
}

/** Whose rows a read-model query of this caller sees: its tenant's, or every tenant's for administrators. */
export function tenantScopeOf(principal: Principal): TenantScope {
  return principal.roles.includes('admin') ? {} : { tenant: principal.tenant };
}
