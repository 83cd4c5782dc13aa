import { ZodError, type z } from 'zod';
import type { ServerCommands } from '../domains/servers/handlers.ts';
import { DisableServerInput, RegisterServerInput, UpdateServerInput } from '../domains/servers/index.ts';
import type { ServerCommandsPort, WriteResult } from '../gateway/ports.ts';
import { AppError } from '../kernel/errors.ts';

/**
 * The worker's side of the server commands: validates each input at this boundary (a command can
 * arrive from NATS as well as from an in-process call) and runs the domain's handlers.
 */
export function localServerCommands(commands: ServerCommands): ServerCommandsPort {
  return {
    register: (input, meta) => run(() => commands.register(parse(RegisterServerInput, input), meta)),
    update: (id, patch, meta) => run(() => commands.update(id, parse(UpdateServerInput, patch), meta)),
    enable: (id, meta) => run(() => commands.enable(id, meta)),
    disable: (id, meta) => run(() => commands.disable(id, meta, parse(DisableServerInput, {}))),
    remove: (id, meta) => run(() => commands.remove(id, meta)),
    refresh: (id, meta) => run(() => commands.refresh(id, meta)),
  };
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw validationError(r.error);
}

function validationError(e: ZodError): AppError {
  return new AppError('validation', 'REQUEST.INVALID', 'the command does not match its schema', {
    errors: e.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

async function run(
  f: () => Promise<{
    serverId: string;
    stream: string;
    revision: bigint;
    position: bigint | undefined;
    duplicate: boolean;
  }>,
): Promise<WriteResult> {
  try {
    const r = await f();
    return {
      id: r.serverId,
      stream: r.stream,
      revision: r.revision,
      position: r.position,
      duplicate: r.duplicate,
    };
  } catch (e) {
    if (e instanceof ZodError) throw validationError(e);
    throw e;
  }
}
