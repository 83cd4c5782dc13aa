export type { ToolsetCommand } from './commands.ts';
export { DefineToolsetInput } from './commands.ts';
export type { ToolsetState } from './decider.ts';
export { toolsetDecider } from './decider.ts';
export { ToolsetErrorCode, toolsetNotFound } from './errors.ts';
export type { ToolRef, ToolsetDefined, ToolsetEvent, ToolsetRemoved } from './events.ts';
export {
  MAX_TOOLSET_TOOLS,
  registerToolsetEvents,
  TOOLSET_CATEGORY,
  toolsetEventTypeNames,
  toolsetEventTypes,
  toolsetNameSchema,
} from './events.ts';
export type { ToolsetCommandResult, ToolsetCommands } from './handlers.ts';
export { makeToolsetCommands, toolsetId, toolsetStream } from './handlers.ts';
