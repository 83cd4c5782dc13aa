import { isAppError } from '../../kernel/errors.ts';
import { error, hasErrors, ISSUE_CODES, type ValidationIssue, warning } from './issues.ts';
import { DEFAULT_LIMITS, type TemplateLimits } from './limits.ts';
import { type LoadedTemplate, loadTemplateDir } from './load.ts';
import { type RenderOptions, renderTemplate, usedVariables } from './render.ts';
import { openRenderer } from './render-sandbox.ts';
import { checkValue, sampleValues, type VariableValue } from './variables.ts';

export interface ValidationResult {
  /** No error-severity issue: warnings alone leave a template valid. */
  ok: boolean;
  issues: ValidationIssue[];
  stats: { files: number; bytes: number };
}

function listFiles(files: readonly string[]): string {
  return files.length <= 3
    ? files.join(', ')
    : `${files.slice(0, 3).join(', ')} and ${files.length - 3} more`;
}

function sizeIssues(t: LoadedTemplate, limits: TemplateLimits): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (t.files.length > limits.maxFiles) {
    issues.push(
      error(ISSUE_CODES.TOO_MANY_FILES, `${t.files.length} files is over the limit of ${limits.maxFiles}`),
    );
  }
  for (const f of t.files) {
    if (f.size > limits.maxFileBytes) {
      issues.push(
        error(
          ISSUE_CODES.FILE_TOO_LARGE,
          `${f.path}: ${f.size} bytes is over the ${limits.maxFileBytes}-byte limit per file`,
          f.path,
        ),
      );
    }
  }
  const bytes = t.files.reduce((n, f) => n + f.size, 0);
  if (bytes > limits.maxTotalBytes) {
    issues.push(
      error(ISSUE_CODES.TOO_LARGE, `${bytes} bytes in all is over the ${limits.maxTotalBytes}-byte limit`),
    );
  }
  return issues;
}

/** Renders with `values`; a failure becomes the issue it names (RENDER_FAILED, PATH_ESCAPES, ...). */
async function renderIssue(
  t: LoadedTemplate,
  values: Record<string, unknown>,
  note: string,
  options: RenderOptions,
): Promise<ValidationIssue[]> {
  try {
    await renderTemplate(t, values, options);
    return [];
  } catch (e) {
    // The template's fault is an issue; a renderer that cannot start is the caller's problem.
    if (!isAppError(e) || e.kind !== 'validation') throw e;
    const file = typeof e.details?.file === 'string' ? e.details.file : undefined;
    return [error(e.code, `${e.message}${note}`, file)];
  }
}

/**
 * Everything that can be known about a loaded template without a user's input: each variable read
 * is declared (and each declared one read), no expression reaches what turns a template into code
 * (`constructor`, `__proto__`, ...), defaults fit their variables, every file parses and renders
 * with sample values (once with booleans true, once false, so both sides of a `{% if flag %}` are
 * tried) in the sandboxed renderer, no path escapes the output, and sizes are within `limits`.
 * Pass `renderer` to validate a batch in one child; otherwise one is started for this template.
 */
export async function validateTemplate(
  t: LoadedTemplate,
  limits: TemplateLimits = DEFAULT_LIMITS,
  options: Pick<RenderOptions, 'renderer' | 'sandbox'> = {},
): Promise<ValidationResult> {
  const issues: ValidationIssue[] = [];
  const { manifest } = t;
  const manifestFile = t.manifestFile;
  const used = usedVariables(t);
  issues.push(...used.issues);

  const undeclared: string[] = [];
  for (const [name, files] of [...used.names].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (Object.hasOwn(manifest.variables, name)) continue;
    undeclared.push(name);
    issues.push(
      error(
        ISSUE_CODES.UNDECLARED_VARIABLE,
        `variable ${name} is used in ${listFiles(files)} but not declared in ${manifestFile}`,
        files[0],
      ),
    );
  }
  for (const [name, variable] of Object.entries(manifest.variables)) {
    if (!used.names.has(name)) {
      issues.push(
        warning(
          ISSUE_CODES.UNUSED_VARIABLE,
          `variable ${name} is declared in ${manifestFile} but never used`,
        ),
      );
    }
    if (variable.default !== undefined) {
      const checked = checkValue(variable, variable.default, { fromString: false });
      if ('error' in checked) {
        issues.push(
          error(
            ISSUE_CODES.INVALID_DEFAULT,
            `${manifestFile}: variables.${name}.default ${checked.error}`,
            manifestFile,
          ),
        );
      }
    }
  }

  // A syntax error would only be reported again as a render failure; an unsafe template is not rendered.
  if (used.issues.length === 0) {
    const renderer = options.renderer ?? openRenderer(options.sandbox);
    try {
      // Undeclared names are already reported: give them a value so the render finds the next problem.
      const values: Record<string, VariableValue> = { ...sampleValues(manifest) };
      for (const name of undeclared) values[name] = 'example';
      const rendered = await renderIssue(t, values, '', { renderer });
      issues.push(...rendered);
      const flags = Object.entries(manifest.variables).filter(([, v]) => v.type === 'boolean');
      if (rendered.length === 0 && flags.length > 0) {
        const off = { ...values, ...Object.fromEntries(flags.map(([name]) => [name, false])) };
        issues.push(
          ...(await renderIssue(t, off, ` (with ${flags.map(([n]) => n).join(', ')} false)`, { renderer })),
        );
      }
    } finally {
      if (!options.renderer) await renderer.close();
    }
  }

  issues.push(...sizeIssues(t, limits));
  const bytes = t.files.reduce((n, f) => n + f.size, 0);
  return { ok: !hasErrors(issues), issues, stats: { files: t.files.length, bytes } };
}

/**
 * Loads and validates a template directory. A template that cannot be loaded (no or bad manifest,
 * symlinks, too large) gives `{ ok: false, issues }` rather than an exception; a directory that
 * does not exist or cannot be read still throws.
 */
export async function validateTemplateDir(
  dir: string,
  limits: TemplateLimits = DEFAULT_LIMITS,
  options: Pick<RenderOptions, 'renderer' | 'sandbox'> = {},
): Promise<ValidationResult> {
  let t: LoadedTemplate;
  try {
    t = await loadTemplateDir(dir, limits);
  } catch (e) {
    if (isAppError(e) && e.kind === 'validation' && Array.isArray(e.details?.issues)) {
      return { ok: false, issues: e.details.issues as ValidationIssue[], stats: { files: 0, bytes: 0 } };
    }
    throw e;
  }
  return validateTemplate(t, limits, options);
}
