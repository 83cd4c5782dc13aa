import type { ServerCommandResult, ServerCommands } from '../domains/servers/handlers.ts';
import type { ServerCommandsPort, WriteResult } from '../gateway/ports.ts';

/**
 * The worker's side of the server commands, in process: the domain's handlers with the gateway's
 * result shape. Input arrives parsed by the edge that received it (an HTTP route, the MCP tool, the
 * NATS boundary in server-commands.wire.ts) and is not parsed again.
 */
export function localServerCommands(commands: ServerCommands): ServerCommandsPort {
  return {
    register: async (input, meta) => toWriteResult(await commands.register(input, meta)),
    update: async (id, patch, meta) => toWriteResult(await commands.update(id, patch, meta)),
    enable: async (id, meta) => toWriteResult(await commands.enable(id, meta)),
    disable: async (id, meta) => toWriteResult(await commands.disable(id, meta)),
    remove: async (id, meta) => toWriteResult(await commands.remove(id, meta)),
    refresh: async (id, meta) => toWriteResult(await commands.refresh(id, meta)),
  };
}

function toWriteResult(r: ServerCommandResult): WriteResult {
  return {
    id: r.serverId,
    stream: r.stream,
    revision: r.revision,
    position: r.position,
    duplicate: r.duplicate,
  };
}
