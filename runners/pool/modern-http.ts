import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type ClientCapabilities,
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  LATEST_PROTOCOL_VERSION,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { INPUT_KEY_META, MODERN_META, MODERN_VERSION, post, type WireOptions } from './modern-wire.ts';

/**
 * The pool's side of the 2026-07-28 revision. The pool speaks to every upstream with the SDK's
 * client of the stateful revisions; a Streamable HTTP upstream that offers 2026-07-28 (its
 * `server/discover` says so) is spoken to through this transport, which turns that client's
 * session into stateless requests:
 *
 * - `initialize` is answered here, from the upstream's discover result; `ping` asks
 *   `server/discover` again; `logging/setLevel` is kept and sent with every request after it;
 * - every other request goes out on its own, with the revision's `_meta` envelope (the version, the
 *   capabilities of the caller whose request it is, the log level) and routing headers; its progress
 *   and log messages come back on its stream, as before;
 * - an `input_required` result is the upstream asking the caller (sampling, elicitation, roots):
 *   each question is put to the SDK client as the server→client request of the stateful revisions
 *   (its handlers route it to the caller, exactly — it is asked within the request's own context),
 *   with the upstream's key for it under INPUT_KEY_META, and the request is sent again with the
 *   answers and the upstream's `requestState`, until the upstream gives its result. A question the
 *   caller cannot answer is left out of the answers; the upstream asks again or gives up.
 *
 * The upstream's list changes are heard on a `subscriptions/listen` stream of the transport's own;
 * resource subscriptions are not bridged yet (refused).
 */

type Json = Record<string, unknown>;

/** Rounds one request may take before the upstream is deemed to ask forever. */
const MAX_ROUNDS = 8;

/** What the revision adds to a result that a client of the stateful ones has no use for. */
function asStateful(result: Json): Json {
  const { resultType: _t, ttlMs: _l, cacheScope: _s, ...rest } = result;
  const meta = rest._meta as Json | undefined;
  if (meta && MODERN_META.serverInfo in meta) {
    const { [MODERN_META.serverInfo]: _i, ...others } = meta;
    if (Object.keys(others).length === 0) delete rest._meta;
    else rest._meta = others;
  }
  return rest;
}

export interface ModernHttpOptions extends WireOptions {
  clientInfo: { name: string; version: string };
  /** What the upstream's `server/discover` answered. */
  discover: Json;
  /** What the caller of the request being sent can be asked (called within its context). */
  capabilitiesFor(): ClientCapabilities;
}

export class ModernHttpTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];

  private readonly inFlight = new Map<RequestId, AbortController>();
  private readonly questions = new Map<RequestId, (answer: JSONRPCMessage) => void>();
  private logLevel: string | undefined;
  private asked = 0;
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly options: ModernHttpOptions,
  ) {}

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.closed) throw new Error('the transport is closed');
    if (isJSONRPCRequest(message)) {
      // Not awaited: the request runs in this async context (the caller's, for the pool's router).
      void this.serve(message);
      return;
    }
    if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (id !== undefined) this.inFlight.get(id)?.abort();
      }
      return;
    }
    // The client's answer to a question put to it.
    if ('id' in message) this.questions.get(message.id as RequestId)?.(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.inFlight.values()) c.abort();
    this.onclose?.();
  }

  private deliver(message: JSONRPCMessage): void {
    if (!this.closed) this.onmessage?.(message);
  }

  private async serve(request: JSONRPCRequest): Promise<void> {
    const { id } = request;
    const discover = this.options.discover;
    switch (request.method) {
      case 'initialize': {
        void this.listen();
        const asked = (request.params as { protocolVersion?: string } | undefined)?.protocolVersion;
        const meta = discover._meta as Json | undefined;
        this.deliver({
          jsonrpc: '2.0',
          id,
          result: {
            protocolVersion: asked ?? LATEST_PROTOCOL_VERSION,
            capabilities: (discover.capabilities as Json | undefined) ?? {},
            serverInfo: (meta?.[MODERN_META.serverInfo] as Json | undefined) ?? {
              name: 'unknown',
              version: '0',
            },
            ...(typeof discover.instructions === 'string' && { instructions: discover.instructions }),
          },
        });
        return;
      }
      case 'logging/setLevel':
        this.logLevel = (request.params as { level?: string } | undefined)?.level;
        this.deliver({ jsonrpc: '2.0', id, result: {} });
        return;
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        this.deliver({
          jsonrpc: '2.0',
          id,
          error: {
            code: ErrorCode.MethodNotFound,
            message: `the upstream speaks ${MODERN_VERSION}, whose resource updates come by subscriptions/listen (not bridged yet)`,
          },
        });
        return;
    }
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    try {
      const answer =
        request.method === 'ping'
          ? await this.ping(id, controller.signal)
          : await this.rounds(request, controller.signal);
      this.deliver(answer);
    } catch (e) {
      if (controller.signal.aborted) return;
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
      this.deliver({
        jsonrpc: '2.0',
        id,
        error: { code: ErrorCode.InternalError, message: e instanceof Error ? e.message : String(e) },
      });
    } finally {
      this.inFlight.delete(id);
    }
  }

  /**
   * Hears the upstream's list changes, as a session of the stateful revisions would: a
   * `subscriptions/listen` stream for the lists it says change, opened again (after a pause that
   * grows to 30 s) whenever it ends, until the transport closes.
   */
  private async listen(): Promise<void> {
    const caps = (this.options.discover.capabilities ?? {}) as Record<string, { listChanged?: boolean }>;
    const notifications = {
      ...(caps.tools?.listChanged && { toolsListChanged: true }),
      ...(caps.prompts?.listChanged && { promptsListChanged: true }),
      ...(caps.resources?.listChanged && { resourcesListChanged: true }),
    };
    if (Object.keys(notifications).length === 0) return;
    const controller = new AbortController();
    this.inFlight.set('listen', controller);
    for (let pause = 1_000; !this.closed; pause = Math.min(pause * 2, 30_000)) {
      const opened = Date.now();
      await this.once(
        { jsonrpc: '2.0', id: 'listen', method: 'subscriptions/listen', params: { notifications } },
        controller.signal,
        (event) => {
          if ('method' in event && event.method.endsWith('/list_changed'))
            this.deliver({ jsonrpc: '2.0', method: event.method });
        },
      ).catch(() => undefined);
      if (Date.now() - opened > 60_000) pause = 1_000;
      await new Promise((resolve) => setTimeout(resolve, pause).unref());
    }
  }

  private async ping(id: RequestId, signal: AbortSignal): Promise<JSONRPCMessage> {
    const answer = await this.once({ jsonrpc: '2.0', id, method: 'server/discover', params: {} }, signal);
    return isJSONRPCErrorResponse(answer) ? answer : { jsonrpc: '2.0', id, result: {} };
  }

  /** One request: sent, and sent again with the caller's answers while the upstream asks. */
  private async rounds(request: JSONRPCRequest, signal: AbortSignal): Promise<JSONRPCMessage> {
    let retry: Json = {};
    for (let round = 0; ; round++) {
      const answer = await this.once(
        { ...request, params: { ...(request.params as Json | undefined), ...retry } },
        signal,
      );
      if (!isJSONRPCResultResponse(answer)) return answer;
      const result = answer.result as Json;
      if (result.resultType !== 'input_required') return { ...answer, result: asStateful(result) };
      if (round >= MAX_ROUNDS)
        return {
          jsonrpc: '2.0',
          id: request.id,
          error: {
            code: ErrorCode.InternalError,
            message: `the upstream still asked for input after ${MAX_ROUNDS} rounds`,
          },
        };
      const inputResponses = await this.ask((result.inputRequests as Json | undefined) ?? {}, signal);
      retry = {
        inputResponses,
        ...(typeof result.requestState === 'string' && { requestState: result.requestState }),
      };
    }
  }

  /** One POST of a request with the envelope: what the caller may be asked, the log level. */
  private once(
    request: JSONRPCRequest,
    signal: AbortSignal,
    // The request's progress and log messages (requests on it are not of this revision).
    onEvent = (event: JSONRPCMessage) => {
      if (isJSONRPCNotification(event)) this.deliver(event);
    },
  ): Promise<JSONRPCMessage> {
    const params = (request.params as Json | undefined) ?? {};
    const body: JSONRPCRequest = {
      ...request,
      params: {
        ...params,
        _meta: {
          ...(params._meta as Json | undefined),
          [MODERN_META.protocolVersion]: MODERN_VERSION,
          [MODERN_META.clientCapabilities]: this.options.capabilitiesFor(),
          [MODERN_META.clientInfo]: this.options.clientInfo,
          ...(this.logLevel !== undefined && { [MODERN_META.logLevel]: this.logLevel }),
        },
      },
    };
    return post(this.options, this.url, body, signal, onEvent);
  }

  /** Puts the upstream's questions to the client at once; the answers the client gave, by key. */
  private async ask(inputRequests: Json, signal: AbortSignal): Promise<Json> {
    const answers = await Promise.all(
      Object.entries(inputRequests).map(async ([key, embedded]) => {
        const { method, params } = (embedded ?? {}) as { method?: unknown; params?: Json };
        if (typeof method !== 'string') return undefined;
        const id = `sy-input-${++this.asked}`;
        const answered = new Promise<JSONRPCMessage>((resolve) => {
          this.questions.set(id, resolve);
          // The request ended: no answer, so nothing goes to the upstream for it.
          const gone = { code: ErrorCode.RequestTimeout, message: 'the request ended' };
          signal.addEventListener('abort', () => resolve({ jsonrpc: '2.0', id, error: gone }), {
            once: true,
          });
        });
        this.deliver({
          jsonrpc: '2.0',
          id,
          method,
          params: { ...params, _meta: { ...(params?._meta as Json | undefined), [INPUT_KEY_META]: key } },
        });
        const answer = await answered;
        this.questions.delete(id);
        return isJSONRPCResultResponse(answer) ? ([key, answer.result] as const) : undefined;
      }),
    );
    return Object.fromEntries(answers.filter((a) => a !== undefined));
  }
}
