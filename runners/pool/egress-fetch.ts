import type { LookupAddress, LookupOptions } from 'node:dns';
import { promises as dns } from 'node:dns';
import type { EgressGuard, EgressRefusedError } from '../egress.ts';

/** Resolves a host name to all its addresses (node:dns lookup with `all: true` by default). */
export type ResolveAll = (hostname: string, family: number) => Promise<LookupAddress[]>;

const systemResolve: ResolveAll = (hostname, family) => dns.lookup(hostname, { all: true, family });

/** A fetch for the MCP SDK transports whose every request and every connection obey the policy. */
export interface EgressFetch {
  fetch: typeof fetch;
  /** The last refusal, to tell it from other failures (the SDK and fetch wrap it differently). */
  refusal(): EgressRefusedError | undefined;
  /** Ends the connections it holds. Idempotent. */
  close(): Promise<void>;
}

type Dispatcher = NonNullable<RequestInit['dispatcher']>;
type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
type AgentClass = new (options: {
  connect: { lookup: (hostname: string, options: LookupOptions, callback: LookupCallback) => void };
}) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
let agentClass: Promise<AgentClass | undefined> | undefined;

/**
 * The Agent class of the undici that Node's own fetch is built on: only it is sure to work as that
 * fetch's `dispatcher` (the undici package on npm needs a newer Node than 20). Node keeps its global
 * dispatcher, an Agent, under a symbol once fetch is loaded; a data: URL loads it without a request.
 * Undefined when something else (a proxy agent, a mock) has replaced the global dispatcher.
 */
function bundledAgentClass(): Promise<AgentClass | undefined> {
  agentClass ??= (async () => {
    const holder = globalThis as Record<symbol, unknown>;
    if (holder[GLOBAL_DISPATCHER] === undefined) await fetch('data:,').catch(() => undefined);
    const ctor = (holder[GLOBAL_DISPATCHER] as { constructor?: unknown } | undefined)?.constructor;
    return typeof ctor === 'function' && ctor.name === 'Agent' ? (ctor as AgentClass) : undefined;
  })();
  return agentClass;
}

/** Whether connect-time checks are available (false: names are checked just before each request). */
export async function connectTimeChecks(): Promise<boolean> {
  return (await bundledAgentClass()) !== undefined;
}

/**
 * A fetch that checks each request's URL (scheme, literal address, metadata names) and each
 * connection's resolved addresses — at connect, in the lookup of its own Agent, so a name that
 * resolves elsewhere since the last connection (DNS rebinding) is judged by where it goes now.
 * Redirects are never followed by fetch itself: the SDK follows same-origin ones through this
 * fetch again, so every hop is checked. One per upstream session; `close()` ends its sockets.
 */
export function createEgressFetch(guard: EgressGuard, resolve: ResolveAll = systemResolve): EgressFetch {
  let last: EgressRefusedError | undefined;
  let closed = false;
  const refuse = (e: EgressRefusedError) => {
    last = e;
    return e;
  };

  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolve(hostname, options.family === 6 ? 6 : options.family === 4 ? 4 : 0).then(
      (addresses) => {
        if (addresses.length === 0) {
          const e: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          e.code = 'ENOTFOUND';
          callback(e, '');
          return;
        }
        const refused = guard.checkResolved(
          hostname,
          addresses.map((a) => a.address),
        );
        if (refused) callback(refuse(refused), '');
        else if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (e: NodeJS.ErrnoException) => callback(e, ''),
    );
  };

  const agent = bundledAgentClass().then((Agent) => (Agent ? new Agent({ connect: { lookup } }) : undefined));

  const egressFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const refused = guard.checkUrl(url);
    if (refused) throw refuse(refused);
    const dispatcher = await agent;
    if (!dispatcher) {
      // No Agent of our own: check where the name points now, a moment before fetch resolves it.
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const addresses = await resolve(host, 0).catch(() => []);
      const late = guard.checkResolved(
        host,
        addresses.map((a) => a.address),
      );
      if (late) throw refuse(late);
    }
    if (closed) throw new Error('the upstream session was closed');
    return fetch(input, { ...init, redirect: 'manual', ...(dispatcher && { dispatcher }) });
  };

  return {
    fetch: egressFetch as typeof fetch,
    refusal: () => last,
    async close() {
      if (closed) return;
      closed = true;
      await (await agent)?.destroy().catch(() => undefined);
    },
  };
}
