import { AppError, errorMessage } from '../../kernel/errors.ts';
import { inspectTemplate } from './ast.ts';
import { error, ISSUE_CODES, type ValidationIssue } from './issues.ts';
import {
  openRenderer,
  type RenderableTemplate,
  type RenderedFile,
  type SandboxOptions,
  type TemplateRenderer,
} from './render-sandbox.ts';
import { NUNJUCKS_OPTIONS } from './sandbox/render-core.mjs';

export type { RenderableTemplate, RenderedFile } from './render-sandbox.ts';

/** Options of {@link renderTemplate}. */
export interface RenderOptions {
  /** Called after each file: the service turns it into progress notifications. */
  onProgress?: (done: number, total: number) => void;
  /** A renderer already open for a batch (a sync's validations); otherwise one is opened and closed. */
  renderer?: TemplateRenderer;
  /** Limits of the child, when one is opened here. */
  sandbox?: SandboxOptions;
}

/**
 * Renders a template with resolved values (see `assertVariables`), in a sandboxed child process
 * (./render-sandbox.ts): every path, and the content of every `render` file; other files are
 * copied byte for byte. A trailing `.njk` is dropped from rendered files' names (copied files keep
 * theirs: a template may ship nunjucks files as they are). Throws `AppError('validation',
 * 'TEMPLATE.RENDER_FAILED' | 'TEMPLATE.UNSAFE_EXPRESSION' | 'TEMPLATE.RENDER_TIMEOUT' |
 * 'TEMPLATE.PATH_ESCAPES' | 'TEMPLATE.DUPLICATE_PATH' | 'TEMPLATE.TOO_LARGE')` naming the file.
 * Pure: nothing is written.
 */
export async function renderTemplate(
  t: RenderableTemplate,
  values: Record<string, unknown>,
  options: RenderOptions = {},
): Promise<RenderedFile[]> {
  if (options.renderer) return options.renderer.render(t, values, options.onProgress);
  const renderer = openRenderer(options.sandbox);
  try {
    return await renderer.render(t, values, options.onProgress);
  } finally {
    await renderer.close();
  }
}

/**
 * The variables a template reads, each with the files (content or path) that read it, found by
 * parsing, not rendering: so an undeclared name is caught even in a branch no sample takes.
 * Syntax errors come back as issues, one per file, and so does every place that reaches a name
 * no template may (`range.constructor`, `x["__proto__"]`): UNSAFE_EXPRESSION, with its line.
 */
export function usedVariables(t: RenderableTemplate): {
  names: Map<string, string[]>;
  issues: ValidationIssue[];
} {
  const names = new Map<string, string[]>();
  const issues: ValidationIssue[] = [];
  const note = (name: string, file: string): void => {
    const files = names.get(name) ?? [];
    if (!files.includes(file)) files.push(file);
    names.set(name, files);
  };
  for (const file of t.files) {
    const sources: Array<[label: string, src: string]> = [[`${file.path} (path)`, file.path]];
    if (file.render) sources.push([file.path, file.content.toString('utf8')]);
    for (const [label, src] of sources) {
      try {
        const found = inspectTemplate(src, { ...NUNJUCKS_OPTIONS });
        for (const name of found.reads) note(name, file.path);
        for (const u of found.unsafe) {
          issues.push(
            error(
              ISSUE_CODES.UNSAFE_EXPRESSION,
              `${label}: line ${u.line}: "${u.name}" may not be used in a template (it leads to running code)`,
              file.path,
            ),
          );
        }
      } catch (e) {
        const lineno = (e as { lineno?: unknown }).lineno;
        const where = typeof lineno === 'number' && lineno > 0 ? `line ${lineno}: ` : '';
        issues.push(
          error(
            ISSUE_CODES.SYNTAX_ERROR,
            `${label}: ${where}${errorMessage(e).replace(/\s+/g, ' ').trim()}`,
            file.path,
          ),
        );
      }
    }
  }
  return { names, issues };
}

/**
 * Refuses a template that reaches a forbidden name anywhere ({@link usedVariables}' UNSAFE_EXPRESSION
 * issues): generating from a version published before such templates were refused stops here,
 * before any child is started. Throws `AppError('validation', 'TEMPLATE.UNSAFE_EXPRESSION')`.
 */
export function assertSafeTemplate(t: RenderableTemplate): void {
  const unsafe = usedVariables(t).issues.filter((i) => i.code === ISSUE_CODES.UNSAFE_EXPRESSION);
  const first = unsafe[0];
  if (first) {
    const more = unsafe.length > 1 ? ` (and ${unsafe.length - 1} more)` : '';
    throw new AppError('validation', first.code, `${first.message}${more}`, {
      file: first.file,
      issues: unsafe,
    });
  }
}
