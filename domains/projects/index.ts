export type { RecordCodeAnalysis, RecordedState, RecordProjectGenerated } from './decider.ts';
export { analysisDecider, projectDecider } from './decider.ts';
export type { CodeAnalyzed, ProjectEvent, ProjectGenerated } from './events.ts';
export {
  ANALYSIS_CATEGORY,
  codeAnalyzedSchema,
  PROJECT_CATEGORY,
  projectEventTypeNames,
  projectEventTypes,
  projectGeneratedSchema,
  registerProjectEvents,
} from './events.ts';
export type {
  CodeAnalyzedInput,
  ProjectCommandDeps,
  ProjectCommands,
  ProjectGeneratedInput,
} from './handlers.ts';
export { analysisStream, makeProjectCommands, projectStream } from './handlers.ts';
