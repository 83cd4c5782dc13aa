import nats, { type Msg, type NatsConnection } from 'nats';
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
import { requestCancelled } from '../bus-errors.ts';
import { assertSubject, assertToken } from '../subjects.ts';
import {
  decodeCommandPayload,
  decodeReply,
  encodeJson,
  encodeReply,
  errorText,
  errorToWire,
} from '../wire.ts';
import { isMaxPayload, requestError } from './nats-errors.ts';

const { headers: createHeaders } = nats;

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Core NATS on subjects of our own (`<prefix>.<subject>`): request/reply with optional queue groups,
 * and fire-and-forget publish/subscribe. Payloads and replies use the same JSON codecs as commands,
 * so an AppError thrown by a handler arrives as that AppError.
 */
export function natsSubjects(nc: NatsConnection, names: BusNames, logger: Logger) {
  const strip = (subject: string) => subject.slice(names.subjectPrefix.length + 1);

  function message(msg: Msg): SubjectMessage {
    return {
      subject: strip(msg.subject),
      payload: decodeCommandPayload(msg.data),
      headers: headerRecord(msg),
    };
  }

  function subscribe(subject: string, queue: string | undefined, onMsg: (msg: Msg) => void) {
    assertSubject(subject, { wildcards: true });
    if (queue !== undefined) assertToken(queue, 'queue group');
    const log = logger.child({ subject, queue });
    return nc.subscribe(prefixedSubject(names, subject), {
      ...(queue !== undefined ? { queue } : {}),
      callback: (err, msg) => {
        if (err) {
          log.error({ err: errorText(err) }, 'subscription failed');
          return;
        }
        onMsg(msg);
      },
    });
  }

  return {
    async serve(options: ServeSubjectOptions): Promise<Closeable> {
      const inFlight = new Set<Promise<void>>();
      const log = logger.child({ subject: options.subject });
      const sub = subscribe(options.subject, options.queue, (msg) => {
        const p = answer(msg, () => options.handler(message(msg)), log).catch((e) =>
          log.error({ err: errorText(e) }, 'could not answer a request'),
        );
        inFlight.add(p);
        p.finally(() => inFlight.delete(p));
      });
      // After the flush the server has the subscription: a request sent next finds this responder.
      await nc.flush();
      return {
        async close() {
          if (!sub.isClosed()) await sub.drain().catch(() => {});
          await Promise.allSettled([...inFlight]);
        },
      };
    },

    async request(subject: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
      assertSubject(subject, { wildcards: false });
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const full = prefixedSubject(names, subject);
      const h = createHeaders();
      for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
      const signal = options.signal;
      if (signal?.aborted) throw requestCancelled(full);
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(requestCancelled(full));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      // Without a listener a rejection nobody raced would be reported as unhandled.
      aborted.catch(() => {});
      try {
        const reply = await Promise.race([
          nc.request(full, encodeJson(payload), { timeout: timeoutMs, headers: h }),
          aborted,
        ]);
        return decodeReply(reply.data);
      } catch (e) {
        throw requestError(e, full, timeoutMs);
      } finally {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      }
    },

    async publish(subject: string, payload: unknown, options: PublishSubjectOptions = {}): Promise<void> {
      assertSubject(subject, { wildcards: false });
      const h = createHeaders();
      for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
      try {
        nc.publish(prefixedSubject(names, subject), encodeJson(payload), { headers: h });
      } catch (e) {
        throw requestError(e, prefixedSubject(names, subject), 0);
      }
    },

    async subscribe(options: SubscribeSubjectOptions): Promise<Closeable> {
      const log = logger.child({ subject: options.subject });
      const sub = subscribe(options.subject, options.queue, (msg) => {
        try {
          options.handler(message(msg));
        } catch (e) {
          log.error({ err: errorText(e) }, 'subscriber failed');
        }
      });
      await nc.flush();
      return {
        async close() {
          if (!sub.isClosed()) sub.unsubscribe();
        },
      };
    },
  };
}

function headerRecord(msg: Msg): Record<string, string> {
  const out: Record<string, string> = {};
  if (!msg.headers) return out;
  for (const [k, v] of msg.headers) {
    if (v[0] !== undefined) out[k] = v[0];
  }
  return out;
}

async function answer(msg: Msg, run: () => Promise<unknown>, log: Logger): Promise<void> {
  let reply: Uint8Array;
  try {
    reply = encodeReply({ ok: true, result: await run() });
  } catch (e) {
    if (!(e instanceof AppError)) log.error({ err: errorText(e) }, 'request handler failed');
    reply = encodeReply({ ok: false, error: errorToWire(e) });
  }
  if (!msg.reply) return;
  try {
    msg.respond(reply);
  } catch (e) {
    const error = isMaxPayload(e)
      ? new AppError('payload_too_large', 'BUS.REPLY_TOO_LARGE', 'the reply exceeds the NATS max payload')
      : e;
    msg.respond(encodeReply({ ok: false, error: errorToWire(error) }));
  }
}
