import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  type BusNames,
  type Closeable,
  type PublishSubjectOptions,
  prefixedSubject,
  type RequestOptions,
  type ServeSubjectOptions,
  type SubjectMessage,
  type SubscribeSubjectOptions,
} from '../bus.port.ts';
import { noResponders, requestCancelled, requestTimedOut } from '../bus-errors.ts';
import { assertSubject, assertToken, subjectMatches } from '../subjects.ts';
import {
  decodeCommandPayload,
  decodeReply,
  encodeJson,
  encodeReply,
  errorText,
  errorToWire,
} from '../wire.ts';

const DEFAULT_TIMEOUT_MS = 5_000;

interface Subscription {
  pattern: string;
  queue: string | undefined;
  /** Returns the encoded reply for serving subscriptions, undefined for plain listeners. */
  deliver(message: SubjectMessage): Promise<Uint8Array> | undefined;
  inFlight: Set<Promise<unknown>>;
}

/**
 * Core-NATS semantics in memory for subjects of our own: every plain subscriber gets a copy, one
 * member per queue group gets it (round robin), a request takes the first reply, and a subject
 * nobody listens on answers "no responders". Messages go through the JSON codecs and are handed
 * over asynchronously, so handlers never run inside the sender's call stack — as on the wire.
 */
export class SubjectRouter {
  private subs: Subscription[] = [];
  private readonly turns = new Map<string, number>();

  constructor(
    private readonly names: BusNames,
    private readonly logger: Logger,
  ) {}

  serve(options: ServeSubjectOptions): Closeable {
    return this.add(options.subject, options.queue, (message, sub) => {
      const run = (async () => {
        try {
          return encodeReply({ ok: true, result: await options.handler(message) });
        } catch (e) {
          if (!(e instanceof AppError)) {
            this.logger.error({ subject: message.subject, err: errorText(e) }, 'request handler failed');
          }
          return encodeReply({ ok: false, error: errorToWire(e) });
        }
      })();
      sub.inFlight.add(run);
      run.finally(() => sub.inFlight.delete(run));
      return run;
    });
  }

  subscribe(options: SubscribeSubjectOptions): Closeable {
    return this.add(options.subject, options.queue, (message) => {
      try {
        options.handler(message);
      } catch (e) {
        this.logger.error({ subject: message.subject, err: errorText(e) }, 'subscriber failed');
      }
      return undefined;
    });
  }

  async publish(subject: string, payload: unknown, options: PublishSubjectOptions = {}): Promise<void> {
    assertSubject(subject, { wildcards: false });
    const body = encodeJson(payload);
    const targets = this.targets(subject);
    await Promise.resolve();
    for (const sub of targets) sub.deliver(this.message(subject, body, options.headers));
  }

  async request(subject: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    assertSubject(subject, { wildcards: false });
    const full = prefixedSubject(this.names, subject);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const targets = this.targets(subject);
    if (targets.length === 0) {
      throw noResponders(full);
    }
    if (options.signal?.aborted) throw requestCancelled(full);
    const body = encodeJson(payload);
    await Promise.resolve();
    const replies = targets
      .map((sub) => sub.deliver(this.message(subject, body, options.headers)))
      .filter((r): r is Promise<Uint8Array> => r !== undefined);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(requestTimedOut(full, timeoutMs)), timeoutMs);
      onAbort = () => reject(requestCancelled(full));
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      // Plain listeners never reply: like NATS, such a request waits for its timeout.
      return decodeReply(await Promise.race([...replies, giveUp]));
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    const all = this.subs;
    this.subs = [];
    await Promise.allSettled(all.flatMap((s) => [...s.inFlight]));
  }

  private add(
    subject: string,
    queue: string | undefined,
    deliver: (message: SubjectMessage, sub: Subscription) => Promise<Uint8Array> | undefined,
  ): Closeable {
    assertSubject(subject, { wildcards: true });
    if (queue !== undefined) assertToken(queue, 'queue group');
    const sub: Subscription = {
      pattern: subject,
      queue,
      deliver: (message) => deliver(message, sub),
      inFlight: new Set(),
    };
    this.subs.push(sub);
    return {
      close: async () => {
        this.subs = this.subs.filter((s) => s !== sub);
        await Promise.allSettled([...sub.inFlight]);
      },
    };
  }

  /** Every plain subscriber, plus one member of each queue group, in turn. */
  private targets(subject: string): Subscription[] {
    const matching = this.subs.filter((s) => subjectMatches(s.pattern, subject));
    const out: Subscription[] = [];
    const groups = new Map<string, Subscription[]>();
    for (const s of matching) {
      if (s.queue === undefined) out.push(s);
      else
        groups.set(`${s.pattern}\u0000${s.queue}`, [
          ...(groups.get(`${s.pattern}\u0000${s.queue}`) ?? []),
          s,
        ]);
    }
    for (const [key, members] of groups) {
      const turn = this.turns.get(key) ?? 0;
      this.turns.set(key, turn + 1);
      out.push(members[turn % members.length]!);
    }
    return out;
  }

  private message(subject: string, body: Uint8Array, headers: Record<string, string> = {}): SubjectMessage {
    return { subject, payload: decodeCommandPayload(body), headers: { ...headers } };
  }
}
