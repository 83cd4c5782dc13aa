export type { ServerCommand } from './commands.ts';
export {
  DisableServer,
  DisableServerInput,
  EnableServer,
  KEEP_CURRENT_SECRET,
  RegisterServer,
  RegisterServerInput,
  RemoveServer,
  SecretInput,
  TransportInput,
  UpdateServer,
  UpdateServerInput,
} from './commands.ts';
export type { ServerConfig, ServerState } from './decider.ts';
export { decide, evolve, initialState, serverDecider } from './decider.ts';
export { ServerErrorCode } from './errors.ts';
export type {
  ServerDisabled,
  ServerEnabled,
  ServerEvent,
  ServerEventType,
  ServerNameEvent,
  ServerNameReleased,
  ServerNameReserved,
  ServerRegistered,
  ServerRemoved,
  ServerSettings,
  ServerUpdated,
  StoredTransport,
  TransportType,
} from './events.ts';
export {
  registerServerEvents,
  SERVER_CATEGORY,
  SERVER_NAME_CATEGORY,
  SERVER_NAME_RE,
  serverEventTypeNames,
  serverEventTypes,
  serverNameSchema,
} from './events.ts';
export type { ServerCommandDeps, ServerCommandResult, ServerCommands } from './handlers.ts';
export { makeServerCommands, serverIdFor, serverNameStream, serverStream } from './handlers.ts';
