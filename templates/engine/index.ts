/** The template engine: load, validate, render and write templates; fetch them from git. */
export { displayUrl, gitCheckout, gitResolve } from './git.ts';
export { ISSUE_CODES, type ValidationIssue } from './issues.ts';
export { DEFAULT_LIMITS, type TemplateLimits } from './limits.ts';
export {
  canonicalJson,
  type LoadedTemplate,
  loadTemplateDir,
  type ScanProblem,
  type ScanProgress,
  scanSource,
  type TemplateFile,
  templateContentHash,
} from './load.ts';
export {
  assertSafeTemplate,
  type RenderableTemplate,
  type RenderedFile,
  type RenderOptions,
  renderTemplate,
  usedVariables,
} from './render.ts';
export {
  DEFAULT_SANDBOX,
  openRenderer,
  type SandboxOptions,
  type TemplateRenderer,
} from './render-sandbox.ts';
export { type ValidationResult, validateTemplate, validateTemplateDir } from './validate.ts';
export {
  assertVariables,
  REDACTED,
  redactVariables,
  resolveVariables,
  sampleValues,
  type VariableIssue,
  type VariableValue,
} from './variables.ts';
export { resolveInWorkspace, TMP_DIR, writeProjectAtomically } from './workspace.ts';
