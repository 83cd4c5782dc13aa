import { z } from 'zod';
import type { Bus, Closeable } from '../bus/bus.port.ts';
import { parseRegistration, parseServerPatch } from '../domains/servers/index.ts';
import type { ServerCommandsPort, WriteResult } from '../gateway/ports.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import { AppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';

/**
 * Server commands on the bus: a gateway sends `<prefix>.cmd.server.<op>` (request/reply), one worker
 * of the `workers` queue group runs it against the event store and answers with the write result.
 */
const CATEGORY = 'server';
const OPS = ['register', 'update', 'enable', 'disable', 'remove', 'refresh'] as const;
type Op = (typeof OPS)[number];

const metaSchema = z.object({
  commandId: z.string().min(1).max(200),
  actor: z.string().min(1).max(200),
  tenant: z.string().max(63).optional(),
  credential: z.string().max(600).optional(),
  correlationId: z.string().min(1).max(200),
  traceparent: z.string().max(200).optional(),
  issuedAt: z.iso.datetime(),
  ifRevision: z
    .string()
    .regex(/^(-1|0|[1-9][0-9]{0,18})$/)
    .optional(),
});

const messageSchema = z.object({
  id: z.string().max(200).optional(),
  input: z.unknown().optional(),
  meta: metaSchema,
});

const resultSchema = z.object({
  id: z.string(),
  stream: z.string(),
  revision: z.string(),
  position: z.string().nullable(),
  duplicate: z.boolean(),
});

type WireResult = z.infer<typeof resultSchema>;

function toWire(r: WriteResult): WireResult {
  return {
    id: r.id,
    stream: r.stream,
    revision: r.revision.toString(),
    position: r.position?.toString() ?? null,
    duplicate: r.duplicate,
  };
}

function fromWire(r: WireResult): WriteResult {
  return {
    id: r.id,
    stream: r.stream,
    revision: BigInt(r.revision),
    position: r.position === null ? undefined : BigInt(r.position),
    duplicate: r.duplicate,
  };
}

function metaToWire(m: CommandMeta) {
  return {
    ...m,
    traceparent: m.traceparent,
    issuedAt: m.issuedAt.toISOString(),
    ifRevision: m.ifRevision?.toString(),
  };
}

/** Worker side: serves server commands from the bus with the given (local) command handlers. */
export function serveServerCommands(
  bus: Bus,
  commands: ServerCommandsPort,
  logger: Logger,
  queue = 'workers',
): Promise<Closeable> {
  return bus.serveCommands({
    category: CATEGORY,
    queue,
    handler: async (message) => {
      const op = message.name as Op;
      if (!OPS.includes(op))
        throw new AppError('validation', 'COMMAND.UNKNOWN', `unknown server command ${message.name}`);
      const parsed = messageSchema.safeParse(message.payload);
      if (!parsed.success) throw new AppError('validation', 'COMMAND.MALFORMED', parsed.error.message);
      const { id, input, meta: wireMeta } = parsed.data;
      const meta: CommandMeta = {
        ...wireMeta,
        issuedAt: new Date(wireMeta.issuedAt),
        ifRevision: wireMeta.ifRevision === undefined ? undefined : BigInt(wireMeta.ifRevision),
      };
      const need = (): string => {
        if (!id) throw new AppError('validation', 'COMMAND.MALFORMED', `${op} needs a server id`);
        return id;
      };
      let result: WriteResult;
      switch (op) {
        // A message from the bus is input from outside this process: parsed here, once.
        case 'register':
          result = await commands.register(parseRegistration(input), meta);
          break;
        case 'update':
          result = await commands.update(need(), parseServerPatch(input), meta);
          break;
        case 'enable':
          result = await commands.enable(need(), meta);
          break;
        case 'disable':
          result = await commands.disable(need(), meta);
          break;
        case 'remove':
          result = await commands.remove(need(), meta);
          break;
        case 'refresh':
          result = await commands.refresh(need(), meta);
          break;
        default: {
          const _exhaustive: never = op;
          throw new Error(`unreachable ${String(_exhaustive)}`);
        }
      }
      logger.info(
        {
          op,
          commandId: meta.commandId,
          correlationId: meta.correlationId,
          actor: meta.actor,
          stream: result.stream,
          revision: String(result.revision),
          duplicate: result.duplicate,
        },
        'command handled',
      );
      return toWire(result);
    },
  });
}

/** Gateway side: the ServerCommandsPort that sends every command over the bus. */
export function serverCommandsOverBus(bus: Bus, timeoutMs = 10_000): ServerCommandsPort {
  const send = async (op: Op, meta: CommandMeta, id?: string, input?: unknown): Promise<WriteResult> => {
    const reply = await bus.request(
      CATEGORY,
      op,
      { id, input, meta: metaToWire(meta) },
      {
        timeoutMs,
        headers: {
          'Sy-Correlation-Id': meta.correlationId,
          ...(meta.traceparent ? { traceparent: meta.traceparent } : {}),
        },
      },
    );
    return fromWire(resultSchema.parse(reply));
  };
  return {
    register: (input, meta) => send('register', meta, undefined, input),
    update: (id, patch, meta) => send('update', meta, id, patch),
    enable: (id, meta) => send('enable', meta, id),
    disable: (id, meta) => send('disable', meta, id),
    remove: (id, meta) => send('remove', meta, id),
    refresh: (id, meta) => send('refresh', meta, id),
  };
}
