import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientSideHandlers } from '../upstream.port.ts';

/** The call whose SDK request is being made in this async context (see CallRouter.run). */
const currentCall = new AsyncLocalStorage<CallContext>();

/** One request in flight on an instance, with what its caller can serve. */
export interface CallContext {
  readonly id: number;
  readonly handlers: ClientSideHandlers;
  readonly signal: AbortSignal;
  /** The pool's own request (discovery, a health ping, a shared subscription): no client's. */
  readonly internal: boolean;
}

/** Where a server-initiated message goes: a call, nowhere (nobody can take it), or refused. */
export type Route =
  | { kind: 'call'; call: CallContext }
  | { kind: 'none' }
  /** Calls of several callers could have caused it: guessing could hand one client's data to another. */
  | { kind: 'ambiguous'; callers: number };

/**
 * Finds the call a server-initiated request (sampling, elicitation, roots) or log message belongs
 * to. Exactly, when the message says which request it relates to: over Streamable HTTP a server
 * sends them on the stream of the POST that carried the request (attributed-streams.ts tells the
 * handlers that request's id, and `bind` records which call made it). Otherwise (stdio, SSE, the
 * standalone GET stream) MCP does not say: when the calls in flight on the instance all belong to
 * one caller, it goes to that caller's most recent call that can take it; when they belong to
 * several callers it is refused, never guessed (a sampling request shown to the wrong user would
 * leak the other user's context). Progress is exact (by progress token, in the SDK).
 */
export class CallRouter {
  private readonly calls = new Map<number, CallContext>();
  private nextId = 1;

  /** The calls that made each request the instance sent (keys from `bind`), while they run. */
  private readonly byRequest = new Map<string, CallContext>();
  private readonly requestsOf = new Map<number, string[]>();

  enter(
    handlers: ClientSideHandlers,
    signal: AbortSignal,
    internal = false,
  ): { context: CallContext; leave(): void } {
    const context: CallContext = { id: this.nextId++, handlers, signal, internal };
    this.calls.set(context.id, context);
    return {
      context,
      leave: () => {
        this.calls.delete(context.id);
        for (const key of this.requestsOf.get(context.id) ?? []) this.byRequest.delete(key);
        this.requestsOf.delete(context.id);
      },
    };
  }

  /** Runs `fn` (the SDK request of a call) so that the requests it sends can be bound to the call. */
  run<T>(context: CallContext, fn: () => T): T {
    return currentCall.run(context, fn);
  }

  /** What the caller of the call that sent request `key` can serve, while that call runs. */
  handlersOf(key: string): ClientSideHandlers | undefined {
    return this.byRequest.get(key)?.handlers;
  }

  /** Records that the request `key` was sent by the call running in this async context, if any. */
  bind(key: string): void {
    const context = currentCall.getStore();
    if (!context || !this.calls.has(context.id)) return;
    this.byRequest.set(key, context);
    this.requestsOf.set(context.id, [...(this.requestsOf.get(context.id) ?? []), key]);
  }

  /**
   * Where a server-initiated message goes. Related to a request a call made (`relatedTo`): that
   * call, or nowhere if it cannot serve it. Otherwise callers are counted over every call in
   * flight, whatever they can serve: a caller without sampling may be the one whose call caused
   * the request, so handing it to another caller that happens to sample would be a guess. Exactly
   * one caller: its most recent call that can serve it (`canServe`), or nowhere. Several: refused.
   * The pool's own requests are not counted: what the upstream sends while one runs carries no
   * client's data, so it cannot make a client's message ambiguous (nor be served: it has no handlers).
   */
  route(canServe: (handlers: ClientSideHandlers) => boolean, relatedTo?: string): Route {
    const related = relatedTo === undefined ? undefined : this.byRequest.get(relatedTo);
    if (related) return canServe(related.handlers) ? { kind: 'call', call: related } : { kind: 'none' };
    const callers = new Set<string>();
    let last: CallContext | undefined;
    for (const c of this.calls.values()) {
      if (c.internal) continue;
      // A call without a caller (a REST call) stands for itself.
      callers.add(c.handlers.caller ?? `call:${c.id}`);
      if (canServe(c.handlers)) last = c;
    }
    if (callers.size > 1) return { kind: 'ambiguous', callers: callers.size };
    return last ? { kind: 'call', call: last } : { kind: 'none' };
  }

  get size(): number {
    return this.calls.size;
  }

  /** Every call in flight here is `caller`'s or the pool's own (true when there is none). */
  onlyCallsOf(caller: string): boolean {
    for (const c of this.calls.values()) if (!c.internal && c.handlers.caller !== caller) return false;
    return true;
  }
}
