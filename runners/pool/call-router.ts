import type { ClientSideHandlers } from '../upstream.port.ts';

/** One request in flight on an instance, with what its caller can serve. */
export interface CallContext {
  readonly id: number;
  readonly handlers: ClientSideHandlers;
  readonly signal: AbortSignal;
}

/**
 * Finds the call a server-initiated request (sampling, elicitation, roots) or log message belongs
 * to. MCP does not say: over stdio these messages carry no reference to the request that caused
 * them, and the SDK client does not surface the Streamable HTTP stream they came on. So: when
 * exactly one call that can serve the message is in flight on the instance, it is that call; when
 * several are, the most recent one gets it — a documented limitation: with concurrent calls on
 * one instance, a sampling request may reach the client of another call. Progress is exact (by
 * progress token, in the SDK).
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
   * The call in flight that most plausibly caused a server-initiated message, among those whose
   * caller can serve it (`canServe`); undefined when none can.
   */
  route(canServe: (handlers: ClientSideHandlers) => boolean): CallContext | undefined {
    let last: CallContext | undefined;
    for (const c of this.calls.values()) if (canServe(c.handlers)) last = c;
    return last;
  }

  get size(): number {
    return this.calls.size;
  }
}
