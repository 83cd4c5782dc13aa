export { toolCallsProjection } from './tool-calls.projection.ts';
export type { ListToolCallsOptions, ToolCallPage, ToolCallView } from './tool-calls.queries.ts';
export {
  getToolCall,
  listToolCalls,
  runningCallsStartedBefore,
  toToolCallView,
} from './tool-calls.queries.ts';
