export type { SourceCheck } from './source-checks.ts';
export { recordSourceCheck } from './source-checks.ts';
export { searchWords, templatesProjection } from './templates.projection.ts';
export type {
  ListValidationsOptions,
  SearchTemplatesOptions,
  StackView,
  TemplateDetail,
  TemplateFileView,
  TemplateSourceView,
  TemplateSummary,
  TemplateTreeDirectory,
  TemplateTreeFile,
  TemplateTreeNode,
  TemplateValidationView,
  TemplateVariableView,
  TemplateVersionDetail,
  TemplateVersionSummary,
} from './templates.queries.ts';
export {
  fileTree,
  getTemplate,
  getTemplateSource,
  getTemplateVersion,
  getValidation,
  listStacks,
  listTemplateSources,
  listValidations,
  prefixTsQuery,
  searchTemplates,
} from './templates.queries.ts';
