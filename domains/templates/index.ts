export type {
  PublishTemplateVersion,
  RecordSourceSynced,
  RecordSourceSyncFailed,
  RecordValidation,
  RegisterTemplateSource,
  RemoveTemplate,
  RemoveTemplateSource,
  TemplateCommand,
  TemplateSourceCommand,
} from './commands.ts';
export { RegisterTemplateSourceInput } from './commands.ts';
export type { SourceConfig, TemplateSourceState, TemplateState, ValidationState } from './decider.ts';
export { templateDecider, templateSourceDecider, validationDecider } from './decider.ts';
export {
  invalidTemplateInput,
  sourceExists,
  sourceNotFound,
  TemplateErrorCode,
  templateNotFound,
} from './errors.ts';
export type {
  SourceKind,
  TemplateEvent,
  TemplateFileEntry,
  TemplateIssue,
  TemplateRemoved,
  TemplateSourceEvent,
  TemplateSourceRegistered,
  TemplateSourceRemoved,
  TemplateSourceSynced,
  TemplateSourceSyncFailed,
  TemplateValidated,
  TemplateVersionPublished,
  ValidationTarget,
} from './events.ts';
export {
  registerTemplateEvents,
  SOURCE_KINDS,
  TEMPLATE_CATEGORY,
  TEMPLATE_SOURCE_CATEGORY,
  templateEventTypeNames,
  templateEventTypes,
  VALIDATION_CATEGORY,
} from './events.ts';
export type { TemplateCommandDeps, TemplateCommands } from './handlers.ts';
export { makeTemplateCommands, templateSourceStream, templateStream, validationStream } from './handlers.ts';
export type { TemplateManifest, TemplateVariable } from './manifest.ts';
export {
  MANIFEST_FILES,
  manifestSchema,
  stackSchema,
  TEMPLATE_NAME_RE,
  templateNameSchema,
  templateVersionSchema,
  VARIABLE_TYPES,
} from './manifest.ts';
