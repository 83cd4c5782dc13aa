import nats, { type Msg, type NatsConnection } from 'nats';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  type BusNames,
  type Closeable,
  type CommandMessage,
  commandSubject,
  type RequestOptions,
  type ServeCommandsOptions,
} from '../bus.port.ts';
import { assertToken } from '../subjects.ts';
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

/** Carries the command name as given, since the subject only has its lower-case token. */
export const COMMAND_NAME_HEADER = 'Sy-Command';
const DEFAULT_TIMEOUT_MS = 5_000;

function headerRecord(msg: Msg): Record<string, string> {
  const out: Record<string, string> = {};
  if (!msg.headers) return out;
  for (const [k, v] of msg.headers) {
    if (v[0] !== undefined) out[k] = v[0];
  }
  return out;
}

async function answer(
  msg: Msg,
  category: string,
  prefix: string,
  options: ServeCommandsOptions,
  log: Logger,
) {
  let reply: Uint8Array;
  try {
    const headers = headerRecord(msg);
    const command: CommandMessage = {
      category,
      name: headers[COMMAND_NAME_HEADER] ?? msg.subject.slice(prefix.length),
      payload: decodeCommandPayload(msg.data),
      headers,
    };
    reply = encodeReply({ ok: true, result: await options.handler(command) });
  } catch (e) {
    if (!(e instanceof AppError))
      log.error({ subject: msg.subject, err: errorText(e) }, 'command handler failed');
    reply = encodeReply({ ok: false, error: errorToWire(e) });
  }
  if (!msg.reply) return;
  try {
    msg.respond(reply);
  } catch (e) {
    const error = isMaxPayload(e)
      ? new AppError(
          'payload_too_large',
          'BUS.REPLY_TOO_LARGE',
          'the command reply exceeds the NATS max payload',
        )
      : e;
    msg.respond(encodeReply({ ok: false, error: errorToWire(error) }));
  }
}

/** Serves `<prefix>.cmd.<category>.>` as one member of a queue group; commands run concurrently. */
export function serveNatsCommands(
  nc: NatsConnection,
  names: BusNames,
  logger: Logger,
  options: ServeCommandsOptions,
): Closeable {
  assertToken(options.category, 'command category');
  assertToken(options.queue, 'queue group');
  const prefix = `${names.subjectPrefix}.cmd.${options.category}.`;
  const log = logger.child({ commands: options.category, queue: options.queue });
  const inFlight = new Set<Promise<void>>();
  const sub = nc.subscribe(`${prefix}>`, {
    queue: options.queue,
    callback: (err, msg) => {
      if (err) {
        log.error({ err: errorText(err) }, 'command subscription failed');
        return;
      }
      const p = answer(msg, options.category, prefix, options, log).catch((e) =>
        log.error({ err: errorText(e) }, 'could not answer a command'),
      );
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    },
  });
  return {
    async close() {
      // Drain delivers what the server already sent us; then wait for those handlers to answer.
      if (!sub.isClosed()) await sub.drain().catch(() => {});
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Request/reply to one member of the category's queue group, with errors mapped to AppErrors. */
export async function natsRequest(
  nc: NatsConnection,
  names: BusNames,
  category: string,
  name: string,
  payload: unknown,
  options: RequestOptions = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const h = createHeaders();
  for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
  h.set(COMMAND_NAME_HEADER, name);
  const subject = commandSubject(names, category, name);
  let reply: Msg;
  try {
    reply = await nc.request(subject, encodeJson(payload), { timeout: timeoutMs, headers: h });
  } catch (e) {
    throw requestError(e, subject, timeoutMs);
  }
  return decodeReply(reply.data);
}
