import type { ClientSideHandlers } from '../upstream.port.ts';

/** One request in flight on an instance, with what its caller can serve. */
export interface CallContext {
  readonly id: number;
  readonly handlers: ClientSideHandlers;
  readonly signal: AbortSignal;
}

/** Where a server-initiated message goes: a call, nowhere (nobody can take it), or refused. */
export type Route =
  | { kind: 'call'; call: CallContext }
  | { kind: 'none' }
  /** Calls of several callers could have caused it: guessing could hand one client's data to another. */
  | { kind: 'ambiguous'; callers: number };

/**
 * Finds the call a server-initiated request (sampling, elicitation, roots) or log message belongs
 * to. MCP does not say: over stdio these messages carry no reference to the request that caused
 * them, and the SDK client does not surface the Streamable HTTP stream they came on. So: when the
 * calls in flight on the instance all belong to one caller, it goes to that caller's most recent
 * call that can take it; when they belong to several callers it is refused, never guessed
 * (a sampling request shown to the wrong user would leak the other user's context). Progress is
 * exact (by progress token, in the SDK).
 */
export class CallRouter {
  private readonly calls = new Map<number, CallContext>();
  private nextId = 1;

  enter(handlers: ClientSideHandlers, signal: AbortSignal): { context: CallContext; leave(): void } {
    const context: CallContext = { id: this.nextId++, handlers, signal };
    this.calls.set(context.id, context);
    return { context, leave: () => this.calls.delete(context.id) };
  }

  /**
   * Where a server-initiated message goes. Callers are counted over every call in flight, whatever
   * they can serve: a caller without sampling may be the one whose call caused the request, so
   * handing it to another caller that happens to sample would be a guess. Exactly one caller: its
   * most recent call that can serve it (`canServe`), or nowhere. Several: refused.
   */
  route(canServe: (handlers: ClientSideHandlers) => boolean): Route {
    const callers = new Set<string>();
    let last: CallContext | undefined;
    for (const c of this.calls.values()) {
      // A call without a caller stands for itself.
      callers.add(c.handlers.caller ?? `call:${c.id}`);
      if (canServe(c.handlers)) last = c;
    }
    if (callers.size > 1) return { kind: 'ambiguous', callers: callers.size };
    return last ? { kind: 'call', call: last } : { kind: 'none' };
  }

  get size(): number {
    return this.calls.size;
  }
}
