import vm from 'node:vm';

/**
 * The renderer proper, run by the sandboxed child (./child.mjs). Plain JavaScript because the child
 * runs without tsx: Node 20 cannot strip types, and tsx needs a child process (esbuild) that the
 * permission model refuses. Types for the TypeScript side are in render-core.d.mts.
 *
 * Nothing here touches the file system or the network: templates arrive as data, files leave as data.
 */

/**
 * Names a template may never reach, as a variable or as a member. From any value, `.constructor`
 * leads to Object or Function, and Function turns a string into code; the `__proto__` family
 * reaches and rewrites prototypes. (The error codes below are ISSUE_CODES in ../issues.ts.)
 */
export const FORBIDDEN_NAMES = Object.freeze([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** Names never reached as members: those, and a function's `caller`, `callee` and `arguments`. */
export const FORBIDDEN_MEMBER_NAMES = Object.freeze([...FORBIDDEN_NAMES, 'caller', 'callee', 'arguments']);

const FORBIDDEN = new Set(FORBIDDEN_NAMES);
const FORBIDDEN_MEMBER = new Set(FORBIDDEN_MEMBER_NAMES);

/** The nunjucks options every render and every parse uses. */
export const NUNJUCKS_OPTIONS = Object.freeze({
  // Generated files are code and config, not HTML.
  autoescape: false,
  // A misspelt variable must fail the render, not silently become an empty string.
  throwOnUndefined: true,
  trimBlocks: true,
  lstripBlocks: true,
});

/** A render failure, with the ISSUE_CODES code and the file it concerns. */
export class RenderFailure extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

// ---------------------------------------------------------------------------------------------
// Case filters: `{{ name | pascalCase }}` turns "my-server" into "MyServer". Words split at any
// non-alphanumeric and at lower→upper and acronym boundaries, so "HTTPServer2Go" is http, server2, go.
// ---------------------------------------------------------------------------------------------

export function words(input) {
  return String(input)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

const capitalize = (w) => w.charAt(0).toUpperCase() + w.slice(1);

export function camelCase(input) {
  return words(input)
    .map((w, i) => (i === 0 ? w : capitalize(w)))
    .join('');
}

export function pascalCase(input) {
  return words(input).map(capitalize).join('');
}

export function kebabCase(input) {
  return words(input).join('-');
}

export function snakeCase(input) {
  return words(input).join('_');
}

export function constantCase(input) {
  return words(input).join('_').toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// Hardening nunjucks itself (once, in the child, before any template is seen).
// ---------------------------------------------------------------------------------------------

/**
 * Makes the loaded nunjucks refuse what a template must never do, whatever the static check
 * (../ast.ts) missed: every `a.b` / `a[b]` and every bare name goes through the runtime's lookups,
 * which now refuse {@link FORBIDDEN_MEMBER_NAMES} and {@link FORBIDDEN_NAMES} (so a name built at render time, `a["constr" ~ "uctor"]`,
 * is refused too); filters and tests are only the environment's own; and templates are compiled
 * with `vm.compileFunction` instead of `new Function`, so the child can run with
 * `--disallow-code-generation-from-strings` and `Function("...")` throws even if reached.
 * `onUnsafe` is told each refusal (the caller then reports the render as unsafe).
 */
export function hardenNunjucks(nunjucks, onUnsafe) {
  const { runtime, compiler, Template, lib } = nunjucks;
  // nunjucks only tracks lines at calls, and 0-based: the lookups are told where they are instead.
  const refuse = (name, lineno, colno) => {
    onUnsafe(name);
    const where = Number.isInteger(lineno) ? [lineno + 1, colno + 1] : [];
    return new lib.TemplateError(`access to "${name}" is not allowed in templates`, ...where);
  };
  const at = (node) => `${Number(node.lineno) | 0},${Number(node.colno) | 0}`;
  compiler.Compiler.prototype.compileLookupVal = function compileLookupVal(node, frame) {
    this._emit('runtime.memberLookup((');
    this._compileExpression(node.target, frame);
    this._emit('),');
    this._compileExpression(node.val, frame);
    this._emit(`,${at(node)})`);
  };
  const compileSymbol = compiler.Compiler.prototype.compileSymbol;
  compiler.Compiler.prototype.compileSymbol = function compileSymbolAt(node, frame) {
    if (frame.lookup(node.value)) return compileSymbol.call(this, node, frame);
    this._emit(
      `runtime.contextOrFrameLookup(context, frame, ${JSON.stringify(String(node.value))},${at(node)})`,
    );
  };
  const memberLookup = runtime.memberLookup;
  runtime.memberLookup = (obj, val, lineno, colno) => {
    // Coerced once, here: the key checked is the key used (an array ["constructor"] is "constructor").
    const key = typeof val === 'symbol' ? val : String(val);
    if (FORBIDDEN_MEMBER.has(key)) throw refuse(key, lineno, colno);
    return memberLookup(obj, key);
  };
  const contextOrFrameLookup = runtime.contextOrFrameLookup;
  runtime.contextOrFrameLookup = (context, frame, name, lineno, colno) => {
    if (FORBIDDEN.has(name)) throw refuse(name, lineno, colno);
    return contextOrFrameLookup(context, frame, name);
  };
  Template.prototype._compile = function compile() {
    let props = this.tmplProps;
    if (!props) {
      const source = compiler.compile(
        this.tmplStr,
        this.env.asyncFilters,
        this.env.extensionsList,
        this.path,
        this.env.opts,
      );
      props = vm.compileFunction(source, [], { filename: 'template.js' })();
    }
    this.blocks = this._getBlocks(props);
    this.rootRenderFunc = props.root;
    this.compiled = true;
  };
}

/**
 * A nunjucks environment with the case and json filters. `includes` maps template-relative paths
 * to sources so `{% include "partials/header.njk" %}` reads the template's own files and nothing
 * else (nunjucks' default loader would read ./views from the working directory).
 */
export function createEnvironment(nunjucks, includes = new Map()) {
  const loader = {
    getSource: (name) => {
      const src = includes.get(name);
      // null makes nunjucks report "template not found: <name>".
      return src === undefined ? null : { src, path: name, noCache: false };
    },
  };
  // A copy: nunjucks writes defaults into the options it is given.
  const env = new nunjucks.Environment(loader, { ...NUNJUCKS_OPTIONS });
  env.addFilter('camelCase', camelCase);
  env.addFilter('pascalCase', pascalCase);
  env.addFilter('kebabCase', kebabCase);
  env.addFilter('snakeCase', snakeCase);
  env.addFilter('constantCase', constantCase);
  env.addFilter('json', (value, indent) => JSON.stringify(value, null, indent));
  // Own filters and tests only: `x | constructor` would otherwise find Object.prototype's.
  env.getFilter = (name) => {
    if (!Object.hasOwn(env.filters, name) || !env.filters[name]) throw new Error(`filter not found: ${name}`);
    return env.filters[name];
  };
  env.getTest = (name) => {
    if (!Object.hasOwn(env.tests, name) || !env.tests[name]) throw new Error(`test not found: ${name}`);
    return env.tests[name];
  };
  return env;
}

const errorMessage = (e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));

/**
 * "src/index.ts: line 3: attempted to output null or undefined value: export const x = {{ nme }};"
 * from nunjucks' multi-line "(src/index.ts) [Line 3, Column 5]\n  Error: ...".
 */
export function describeFailure(label, e, source) {
  // Errors from includes arrive wrapped once per template: "(a) [Line 1, ...]\n Template render error: (b) ...".
  let rest = errorMessage(e);
  const frames = [];
  for (;;) {
    const m = /^\s*(?:Template render error:\s*)?\(([^)\n]*)\)(?: \[Line (\d+), Column \d+\])?/.exec(rest);
    if (!m) break;
    frames.push({ where: m[1], line: m[2] });
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
function markSeparators(templatePath) {
  let out = '';
  let close;
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
    } else if (two === close) {
      close = undefined;
      out += two;
      i++;
    } else {
      out += templatePath[i];
    }
  }
  return out;
}

function escapes(source, message) {
  return new RenderFailure('TEMPLATE.PATH_ESCAPES', `${source}: ${message}`, { file: source });
}

/**
 * Renders a template path to an output path, or undefined when a segment the author wrote renders
 * empty (`{% if docker %}Dockerfile{% endif %}`): that is how a template leaves a file out. A "/"
 * coming from a value may nest directories, but the result must stay relative and inside the
 * project: absolute, `..`, `.`, empty, backslash and control characters are refused.
 */
export function renderPath(nunjucks, env, sourcePath, values, stripNjk) {
  let rendered;
  try {
    rendered = new nunjucks.Template(markSeparators(sourcePath), env, `${sourcePath} (path)`, true).render(
      values,
    );
  } catch (e) {
    throw new RenderFailure('TEMPLATE.RENDER_FAILED', describeFailure(`${sourcePath} (path)`, e), {
      file: sourcePath,
    });
  }
  const segments = rendered.split(SEPARATOR);
  if (stripNjk) segments[segments.length - 1] = segments.at(-1).replace(/\.njk$/, '');
  if (segments.some((s) => s === '')) return undefined;
  const parts = [];
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
 * Renders every path of `files` and the content of every `render` file with `values`, handing each
 * output file to `emit` (index into `files`, path, and the rendered text or null for a file copied
 * as it is) as soon as it is rendered, and `progress(done, total)` after each file. Stops with a
 * {@link RenderFailure} naming the file at the first problem, or when the rendered text passes
 * `maxOutputBytes`.
 */
export function renderFiles(nunjucks, files, values, { emit, progress, maxOutputBytes }) {
  const includes = new Map(files.filter((f) => f.render).map((f) => [f.path, f.content]));
  const env = createEnvironment(nunjucks, includes);
  const sources = new Map();
  let bytes = 0;
  for (const [i, file] of files.entries()) {
    const path = renderPath(nunjucks, env, file.path, values, file.render);
    if (path !== undefined) {
      const taken = sources.get(path);
      if (taken !== undefined) {
        throw new RenderFailure(
          'TEMPLATE.DUPLICATE_PATH',
          `${file.path}: renders to ${path}, as ${taken} does`,
          {
            file: file.path,
            path,
          },
        );
      }
      sources.set(path, file.path);
      let content = null;
      if (file.render) {
        const source = includes.get(file.path) ?? '';
        try {
          content = new nunjucks.Template(source, env, file.path, true).render(values);
        } catch (e) {
          throw new RenderFailure('TEMPLATE.RENDER_FAILED', describeFailure(file.path, e, source), {
            file: file.path,
          });
        }
        bytes += Buffer.byteLength(content, 'utf8');
        if (bytes > maxOutputBytes) {
          throw new RenderFailure(
            'TEMPLATE.TOO_LARGE',
            `${file.path}: the rendered files pass the ${maxOutputBytes}-byte limit`,
            { file: file.path },
          );
        }
      }
      emit(i, path, content);
    }
    progress(i + 1, files.length);
  }
}
