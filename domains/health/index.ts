export type { HealthCommand } from './commands.ts';
export { RecordHealth, RecordHealthInput } from './commands.ts';
export type { HealthState } from './decider.ts';
export { decide, evolve, healthDecider, initialState } from './decider.ts';
export { HealthErrorCode } from './errors.ts';
export type { HealthEvent, HealthEventType, HealthStatus, ServerHealthChanged } from './events.ts';
export {
  HEALTH_CATEGORY,
  HEALTH_STATUSES,
  healthEventTypeNames,
  healthEventTypes,
  healthStatusSchema,
  registerHealthEvents,
} from './events.ts';
export type { HealthCommandDeps, HealthCommandResult, HealthCommands } from './handlers.ts';
export { healthStream, makeHealthCommands } from './handlers.ts';
