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
 * calls in flight on the instance that can take the message all belong to one caller, it goes to
 * that caller's most recent call; when they belong to several callers it is refused, never guessed
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

  /** Where a server-initiated message goes, among the calls whose caller can serve it (`canServe`). */
  route(canServe: (handlers: ClientSideHandlers) => boolean): Route {
    let last: CallContext | undefined;
    const callers = new Set<string>();
    for (const c of this.calls.values()) {
      if (!canServe(c.handlers)) continue;
      last = c;
      // A call without a caller stands for itself.
      callers.add(c.handlers.caller ?? `call:${c.id}`);
    }
    if (!last) return { kind: 'none' };
    return callers.size === 1 ? { kind: 'call', call: last } : { kind: 'ambiguous', callers: callers.size };
  }

  get size(): number {
    return this.calls.size;
  }
}
