export type { OperationCommand, QuarantineProjectionEvent, ReleaseProjectionEvent } from './commands.ts';
export { QuarantineProjectionEventInput, ReleaseProjectionEventInput } from './commands.ts';
export type { OperationState } from './decider.ts';
export { decide, evolve, initialState, operationDecider } from './decider.ts';
export { OperationErrorCode } from './errors.ts';
export type {
  OperationEvent,
  OperationEventType,
  ProjectionEventQuarantined,
  ProjectionEventReleased,
} from './events.ts';
export {
  decisionReasonSchema,
  logEventIdSchema,
  operationEventTypeNames,
  operationEventTypes,
  PROJECTION_CATEGORY,
  projectionEventQuarantinedSchema,
  projectionEventReleasedSchema,
  projectionNameSchema,
  registerOperationEvents,
} from './events.ts';
export type { OperationCommandDeps, ProjectionDecisionResult, ProjectionDecisions } from './handlers.ts';
export { makeProjectionDecisions, projectionStream } from './handlers.ts';
