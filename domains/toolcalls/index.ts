export type { RedactionOptions, RedactionPattern } from '../../kernel/redaction.ts';
export { isSecretName, redactArguments, TOO_DEEP, TOO_LARGE } from '../../kernel/redaction.ts';
export type {
  ToolCallAbandonment,
  ToolCallCommand,
  ToolCallOutcome,
  ToolCallStart,
} from './commands.ts';
export { AbandonToolCall, CompleteToolCall, StartToolCall } from './commands.ts';
export type { ToolCallState } from './decider.ts';
export { decide, evolve, initialState, toolCallDecider } from './decider.ts';
export { ToolCallErrorCode } from './errors.ts';
export type {
  ToolCallAbandoned,
  ToolCallError,
  ToolCallEvent,
  ToolCallEventType,
  ToolCallFailed,
  ToolCallStarted,
  ToolCallSucceeded,
  ToolCallVia,
} from './events.ts';
export {
  registerToolCallEvents,
  TOOL_CALL_VIAS,
  TOOLCALL_CATEGORY,
  toolCallEventTypeNames,
  toolCallEventTypes,
} from './events.ts';
export type {
  ToolCallCommandDeps,
  ToolCallCommandResult,
  ToolCallCommands,
  UnfinishedCall,
} from './handlers.ts';
export { findUnfinishedCalls, makeToolCallCommands, toolCallStream } from './handlers.ts';
