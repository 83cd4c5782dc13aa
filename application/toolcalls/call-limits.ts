import { AppError } from '../../kernel/errors.ts';

/** How much one gateway lets run at once, and how large a result it hands back (configuration). */
export interface CallCaps {
  /** Tool calls in flight per principal on this gateway. */
  perPrincipal: number;
  /** Tool calls in flight per upstream server on this gateway. */
  perServer: number;
  /** Largest tool result (bytes of its JSON) handed back; a larger one is withheld and the call fails. */
  maxResultBytes: number;
}

export interface InFlight {
  /** Takes a slot for the call, or refuses (429 / JSON-RPC -32010) when either cap is reached; call the result to free it. */
  acquire(principalId: string, serverId: string): () => void;
  caps: CallCaps;
}

/**
 * Calls in flight, counted per principal and per upstream: one client cannot occupy every slot of
 * a gateway, nor can every client together drown one upstream. A refusal happens before the call is
 * recorded or made.
 */
export function createInFlight(caps: CallCaps): InFlight {
  const byPrincipal = new Map<string, number>();
  const byServer = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, d: number) => {
    const n = (m.get(k) ?? 0) + d;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  };
  return {
    caps,
    acquire(principalId, serverId) {
      if ((byPrincipal.get(principalId) ?? 0) >= caps.perPrincipal) {
        throw tooMany(
          `you already have ${caps.perPrincipal} tool calls in flight on this gateway`,
          'principal',
        );
      }
      if ((byServer.get(serverId) ?? 0) >= caps.perServer) {
        throw tooMany(
          `this server already has ${caps.perServer} tool calls in flight on this gateway`,
          'server',
        );
      }
      add(byPrincipal, principalId, 1);
      add(byServer, serverId, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        add(byPrincipal, principalId, -1);
        add(byServer, serverId, -1);
      };
    },
  };
}

function tooMany(detail: string, scope: string): AppError {
  return new AppError('rate_limited', 'CALLS.TOO_MANY_IN_FLIGHT', `${detail}; retry when one has finished`, {
    policy: `in-flight-${scope}`,
    retryAfterSeconds: 1,
    headers: { 'Retry-After': '1' },
  });
}

export function resultTooLarge(bytes: number, max: number): AppError {
  return new AppError(
    'upstream',
    'RESULT.TOO_LARGE',
    `the tool's result is ${bytes} bytes, over the gateway's limit of ${max}; it was not handed back`,
    { bytes, max },
  );
}
