export type { CallOutcome, CallRecord, CallsQuery, OpenSealed } from './calls.ts';
export { callsQuery } from './calls.ts';
export type { ChangeRecord, ChangesQuery } from './changes.ts';
export { CHANGE_CATEGORIES, changesQuery } from './changes.ts';
export type { LogQuery, Page, PageOptions, Positioned, TimeWindow } from './log-scan.ts';
export { answerPage, answers } from './log-scan.ts';
export { redactChangeData } from './redact-change.ts';
export type { ServerAsOf, ServerAsOfQuery, ToolAsOf } from './server-as-of.ts';
export { serverAsOf } from './server-as-of.ts';
