import nunjucks from 'nunjucks';
import type { TemplateManifest } from '../../domains/templates/manifest.ts';
import { AppError, errorMessage } from '../../kernel/errors.ts';
import { readVariables } from './ast.ts';
import { camelCase, constantCase, kebabCase, pascalCase, snakeCase } from './case.ts';
import { error, ISSUE_CODES, type ValidationIssue } from './issues.ts';
import type { TemplateFile } from './load.ts';

/** One file of a generated project. */
export interface RenderedFile {
  /** Posix, relative to the project root; checked not to escape it. */
  path: string;
  content: Buffer;
  executable?: boolean;
}

/** What rendering needs of a template: a {@link LoadedTemplate} fits, so does a test fixture. */
export interface RenderableTemplate {
  manifest: TemplateManifest;
  files: ReadonlyArray<
    Pick<TemplateFile, 'path' | 'content' | 'binary' | 'render'> & { executable?: boolean }
  >;
}

const OPTIONS = {
  // Generated files are code and config, not HTML.
  autoescape: false,
  // A misspelt variable must fail the render, not silently become an empty string.
  throwOnUndefined: true,
  trimBlocks: true,
  lstripBlocks: true,
} as const;

/**
 * A nunjucks environment with the case and json filters. `includes` maps template-relative paths
 * to sources so `{% include "partials/header.njk" %}` reads the template's own files and nothing
 * else (nunjucks' default loader would read ./views from the working directory).
 */
export function createEnvironment(includes: ReadonlyMap<string, string> = new Map()): nunjucks.Environment {
  const loader: nunjucks.ILoader = {
    getSource: (name) => {
      const src = includes.get(name);
      // null makes nunjucks report "template not found: <name>".
      return (src === undefined ? null : { src, path: name, noCache: false }) as nunjucks.LoaderSource;
    },
  };
  const env = new nunjucks.Environment(loader, OPTIONS);
  env.addFilter('camelCase', camelCase);
  env.addFilter('pascalCase', pascalCase);
  env.addFilter('kebabCase', kebabCase);
  env.addFilter('snakeCase', snakeCase);
  env.addFilter('constantCase', constantCase);
  env.addFilter('json', (value: unknown, indent?: number | string) => JSON.stringify(value, null, indent));
  return env;
}

/**
 * "src/index.ts: line 3: attempted to output null or undefined value: export const x = {{ nme }};"
 * from nunjucks' multi-line "(src/index.ts) [Line 3, Column 5]\n  Error: ...".
 */
function describeFailure(label: string, e: unknown, source?: string): string {
  // Errors from includes arrive wrapped once per template: "(a) [Line 1, ...]\n Template render error: (b) ...".
  let rest = errorMessage(e);
  const frames: Array<{ where: string; line: string | undefined }> = [];
  for (;;) {
    const m = /^\s*(?:Template render error:\s*)?\(([^)\n]*)\)(?: \[Line (\d+), Column \d+\])?/.exec(rest);
    if (!m) break;
    frames.push({ where: m[1]!, line: m[2] });
    rest = rest.slice(m[0].length);
  }
  const text = rest
    .replace(/^\s*(?:Template render )?Error: /, '')
    .replace(/\s+/g, ' ')
    .trim();
  const inner = frames.findLast((f) => f.line !== undefined) ?? frames.at(-1);
  const where = inner?.where;
  const line = inner?.line;
  const elsewhere =
    where !== undefined && where !== label && where !== 'unknown path' ? ` (in ${where})` : '';
  let snippet = '';
  if (source !== undefined && line !== undefined && elsewhere === '') {
    const sourceLine = source.split('\n')[Number(line) - 1]?.trim();
    if (sourceLine) snippet = `: ${sourceLine.length > 100 ? `${sourceLine.slice(0, 100)}…` : sourceLine}`;
  }
  return `${label}: ${line === undefined ? '' : `line ${line}: `}${text}${elsewhere}${snippet}`;
}

// Stands for a "/" the template author wrote, as opposed to one that came from a value.
const SEPARATOR = '\u0001';

/** Replaces each "/" outside `{{ }}`, `{% %}` and `{# #}` with {@link SEPARATOR}. */
function markSeparators(templatePath: string): string {
  let out = '';
  let close: string | undefined;
  for (let i = 0; i < templatePath.length; i++) {
    const two = templatePath.slice(i, i + 2);
    if (close === undefined) {
      if (two === '{{' || two === '{%' || two === '{#') {
        close = two === '{{' ? '}}' : two === '{%' ? '%}' : '#}';
        out += two;
        i++;
      } else {
        out += templatePath[i] === '/' ? SEPARATOR : templatePath[i];
      }
    } else {
      if (two === close) {
        close = undefined;
        out += two;
        i++;
      } else {
        out += templatePath[i];
      }
    }
  }
  return out;
}

function escapes(source: string, message: string): AppError {
  return new AppError('validation', ISSUE_CODES.PATH_ESCAPES, `${source}: ${message}`, { file: source });
}

/**
 * Renders a template path to an output path, or undefined when a segment the author wrote renders
 * empty (`{% if docker %}Dockerfile{% endif %}`): that is how a template leaves a file out. A "/"
 * coming from a value may nest directories, but the result must stay relative and inside the
 * project: absolute, `..`, `.`, empty, backslash and control characters are refused.
 */
export function renderPath(
  env: nunjucks.Environment,
  sourcePath: string,
  values: Record<string, unknown>,
  stripNjk: boolean,
): string | undefined {
  let rendered: string;
  try {
    rendered = new nunjucks.Template(markSeparators(sourcePath), env, `${sourcePath} (path)`, true).render(
      values,
    );
  } catch (e) {
    throw new AppError('validation', ISSUE_CODES.RENDER_FAILED, describeFailure(`${sourcePath} (path)`, e), {
      file: sourcePath,
    });
  }
  const segments = rendered.split(SEPARATOR);
  if (stripNjk) segments[segments.length - 1] = segments.at(-1)!.replace(/\.njk$/, '');
  if (segments.some((s) => s === '')) return undefined;
  const parts: string[] = [];
  for (const segment of segments) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\\\u0000-\u001f]/.test(segment)) {
      throw escapes(
        sourcePath,
        `renders to ${JSON.stringify(segment)}, with a backslash or control character`,
      );
    }
    for (const part of segment.split('/')) {
      if (part === '' || part === '.' || part === '..') {
        throw escapes(sourcePath, `renders to ${JSON.stringify(segments.join('/'))}, outside the project`);
      }
      parts.push(part);
    }
  }
  return parts.join('/');
}

/**
 * Renders a template with resolved values (see `assertVariables`): every path, and the content of
 * every `render` file; other files are copied byte for byte. A trailing `.njk` is dropped from
 * rendered files' names (copied files keep theirs: a template may ship nunjucks files as they are).
 * Throws `AppError('validation', 'TEMPLATE.RENDER_FAILED' | 'TEMPLATE.PATH_ESCAPES' |
 * 'TEMPLATE.DUPLICATE_PATH')` naming the file. Pure: nothing is written.
 */
export function renderTemplate(
  t: RenderableTemplate,
  values: Record<string, unknown>,
  onProgress?: (done: number, total: number) => void,
): RenderedFile[] {
  const includes = new Map(t.files.filter((f) => f.render).map((f) => [f.path, f.content.toString('utf8')]));
  const env = createEnvironment(includes);
  const out: RenderedFile[] = [];
  const sources = new Map<string, string>();
  const total = t.files.length;
  for (const [i, file] of t.files.entries()) {
    const path = renderPath(env, file.path, values, file.render);
    if (path !== undefined) {
      const taken = sources.get(path);
      if (taken !== undefined) {
        throw new AppError(
          'validation',
          ISSUE_CODES.DUPLICATE_PATH,
          `${file.path}: renders to ${path}, as ${taken} does`,
          { file: file.path, path },
        );
      }
      sources.set(path, file.path);
      let content = file.content;
      if (file.render) {
        const source = includes.get(file.path) ?? '';
        try {
          content = Buffer.from(new nunjucks.Template(source, env, file.path, true).render(values), 'utf8');
        } catch (e) {
          throw new AppError('validation', ISSUE_CODES.RENDER_FAILED, describeFailure(file.path, e, source), {
            file: file.path,
          });
        }
      }
      out.push(file.executable ? { path, content, executable: true } : { path, content });
    }
    onProgress?.(i + 1, total);
  }
  return out;
}

/**
 * The variables a template reads, each with the files (content or path) that read it, found by
 * parsing, not rendering: so an undeclared name is caught even in a branch no sample takes.
 * Syntax errors come back as issues, one per file.
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
        for (const name of readVariables(src, OPTIONS)) note(name, file.path);
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
