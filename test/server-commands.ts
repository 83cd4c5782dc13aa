import {
  makeServerCommands,
  parseRegistration,
  parseServerPatch,
  type ServerCommandDeps,
} from '../domains/servers/index.ts';
import type { CommandMeta } from '../kernel/decider.ts';

/**
 * The servers' command handlers as an edge calls them: input as a client sends it, parsed first
 * (parseRegistration, parseServerPatch), then handed to the handlers, which never parse. Lets tests
 * write registrations the short way (defaults left out) and see the edge's validation errors.
 */
export function serverCommandsAtTheEdge(deps: ServerCommandDeps) {
  const commands = makeServerCommands(deps);
  return {
    ...commands,
    register: async (input: unknown, meta: CommandMeta) => commands.register(parseRegistration(input), meta),
    update: async (serverId: string, patch: unknown, meta: CommandMeta) =>
      commands.update(serverId, parseServerPatch(patch), meta),
  };
}
