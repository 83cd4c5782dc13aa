import { randomBytes } from 'node:crypto';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  ListRootsResultSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { INPUT_KEY_META } from '../../../runners/pool/modern-wire.ts';

/**
 * Multi round-trip requests (2026-07-28, SEP-2322) in front of upstreams of either revision.
 *
 * An upstream asks its client in the middle of a call (`sampling/createMessage`,
 * `elicitation/create`, `roots/list`) and waits on the open call — a 2025 upstream as a request to
 * its client, a 2026-07-28 one as an `input_required` result the pool turns into such a request
 * (runners/pool/modern-wire.ts). A 2026-07-28 client holds no connection to be asked on, so the
 * gateway keeps the call open — an InputFlow — and answers the client `input_required`: the
 * questions under the upstream's keys (when it named them) or the gateway's own, and a sealed
 * `requestState` (input-rounds.ts). The client's retry carries its answers by those keys; the
 * gateway hands them to the upstream and waits for what it does next: ask again (another round) or
 * finish (the result).
 */

type Json = Record<string, unknown>;

/** The three questions an upstream may ask, each with the shape of its answer. */
const ANSWERS = {
  'sampling/createMessage': CreateMessageResultSchema.or(CreateMessageResultWithToolsSchema),
  'elicitation/create': ElicitResultSchema,
  'roots/list': ListRootsResultSchema,
} as const;
type Question = keyof typeof ANSWERS;
const isQuestion = (method: string): method is Question => method in ANSWERS;

/** The key a question goes under: what it is (numbered from the second of its kind in a flow). */
const KEY_STEM: Record<Question, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** A key an upstream may give a question (anything else is replaced by one of the gateway's). */
const UPSTREAM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** How long the upstream's questions that arrive together are gathered into one round. */
export const GATHER_MS = 15;

/** A refused retry: always invalid params, whatever is wrong with it (SEP-2322's frozen code). */
export class RetryRefused extends Error {}

interface Asked {
  /** The session server's id for the question. */
  id: RequestId;
  method: Question;
  params: Json;
}

/** What a flow does next: the upstream finished, or has questions for the client. */
export type FlowEvent = { kind: 'answer'; message: JSONRPCMessage } | { kind: 'input' };

/** What a flow is: whose request, for what, and as which server it answers. */
export interface FlowAbout {
  /** Who may continue it: the principal that started it. */
  owner: string;
  method: string;
  /** The tool, prompt or resource it is about. */
  target: string;
  requestId: RequestId;
  serverInfo: { name: string; version: string };
}

/**
 * One request of a 2026-07-28 client kept open across its rounds: the session server made for it,
 * linked in memory, and the upstream's questions still waiting for the client.
 */
export class InputFlow {
  readonly id = randomBytes(16).toString('base64url');
  round = 0;
  private readonly asked = new Map<string, Asked>();
  private final?: JSONRPCMessage;
  private gathering?: NodeJS.Timeout;
  private wake?: (event: FlowEvent) => void;
  private sink?: (message: JSONRPCMessage) => void;
  private readonly held: JSONRPCMessage[] = [];
  private readonly issued = new Map<Question, number>();
  private prefilled?: Map<string, Json>;

  readonly owner: string;
  readonly method: string;
  readonly target: string;
  readonly serverInfo: { name: string; version: string };
  private readonly requestId: RequestId;

  constructor(
    about: FlowAbout,
    private readonly link: InMemoryTransport,
    private readonly server: Server,
  ) {
    this.owner = about.owner;
    this.method = about.method;
    this.target = about.target;
    this.serverInfo = about.serverInfo;
    this.requestId = about.requestId;
    link.onmessage = (message) => this.receive(message);
  }

  /**
   * Sends the client's request to the session server. `answers` are what the client sent with it,
   * before any round: a question asked under one of their keys is answered with it at once (used
   * once, and only if it is an answer of the right shape), as a server written for the revision
   * would find them on its first run.
   */
  async start(params: Json, answers?: Record<string, Json>): Promise<void> {
    if (answers) this.prefilled = new Map(Object.entries(answers));
    await this.link.start();
    await this.link.send({ jsonrpc: '2.0', id: this.requestId, method: this.method, params });
  }

  /** Where this round's progress and log messages go (a response stream), or nowhere between rounds. */
  attach(sink: ((message: JSONRPCMessage) => void) | undefined): void {
    this.sink = sink;
    if (sink) for (const message of this.held.splice(0)) sink(message);
  }

  /** The questions the client has not answered yet, as the revision embeds them. */
  inputRequests(): Record<string, { method: string; params: Json }> {
    const out: Record<string, { method: string; params: Json }> = {};
    for (const [key, q] of this.asked) out[key] = { method: q.method, params: q.params };
    return out;
  }

  /**
   * Hands the client's answers to the upstream. Keys that name no open question are ignored (an
   * answer to another round, or to nothing); an answer of the wrong shape refuses the whole retry
   * before any answer is sent, so the client can send it again.
   */
  async answer(responses: Record<string, Json>): Promise<void> {
    const given: Array<[string, Asked, Json]> = [];
    for (const [key, value] of Object.entries(responses)) {
      const q = this.asked.get(key);
      if (!q) continue;
      const parsed = ANSWERS[q.method].safeParse(value);
      if (!parsed.success) throw new RetryRefused(`inputResponses["${key}"] is not an answer to ${q.method}`);
      given.push([key, q, value]);
    }
    for (const [key, q, value] of given) {
      this.asked.delete(key);
      await this.link.send({ jsonrpc: '2.0', id: q.id, result: value });
    }
  }

  /**
   * What happens next: the result as soon as the upstream gives it; the questions still open
   * right away; new ones once those arriving together have been gathered.
   */
  next(): Promise<FlowEvent> {
    if (this.final) return Promise.resolve({ kind: 'answer', message: this.final });
    if (this.asked.size > 0 && !this.gathering) return Promise.resolve({ kind: 'input' });
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Ends the flow: the upstream's call is cancelled unless it finished. */
  async close(reason: string): Promise<void> {
    clearTimeout(this.gathering);
    this.wake = undefined;
    if (!this.final)
      await this.link
        .send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: this.requestId, reason },
        })
        .catch(() => undefined);
    await this.server.close().catch(() => undefined);
  }

  private receive(message: JSONRPCMessage): void {
    if (
      (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) &&
      message.id === this.requestId
    ) {
      this.final = message;
      clearTimeout(this.gathering);
      this.gathering = undefined;
      this.emit({ kind: 'answer', message });
    } else if (isJSONRPCRequest(message)) {
      this.ask(message.id, message.method, message.params as Json | undefined);
    } else if (!('id' in message)) {
      // Progress and log messages of the request; held (a few) while no round is being answered.
      if (this.sink) this.sink(message);
      else if (this.held.length < 64) this.held.push(message);
    }
  }

  private ask(id: RequestId, method: string, params: Json | undefined): void {
    if (!isQuestion(method)) {
      void this.link
        .send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } })
        .catch(() => undefined);
      return;
    }
    // The upstream's own key, when it is a 2026-07-28 server that named it (the pool passes it on);
    // else one of the gateway's, unique within the flow so that an answer to an earlier round's
    // question is never taken for this one's: `elicitation`, then `elicitation_2`, …
    const named = (params?._meta as Json | undefined)?.[INPUT_KEY_META];
    let key: string;
    if (typeof named === 'string' && UPSTREAM_KEY.test(named) && !this.asked.has(named)) key = named;
    else
      do {
        const n = (this.issued.get(method) ?? 0) + 1;
        this.issued.set(method, n);
        key = n === 1 ? KEY_STEM[method] : `${KEY_STEM[method]}_${n}`;
      } while (this.asked.has(key));
    const given = this.prefilled?.get(key);
    if (given !== undefined) {
      this.prefilled?.delete(key);
      if (ANSWERS[method].safeParse(given).success) {
        void this.link.send({ jsonrpc: '2.0', id, result: given }).catch(() => undefined);
        return;
      }
    }
    // The envelope of the stateful revisions' request is not part of the embedded question.
    const { _meta: _, ...rest } = params ?? {};
    this.asked.set(key, { id, method, params: rest });
    clearTimeout(this.gathering);
    this.gathering = setTimeout(() => {
      this.gathering = undefined;
      this.emit({ kind: 'input' });
    }, GATHER_MS);
  }

  private emit(event: FlowEvent): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.(event);
  }
}
