import nunjucks from 'nunjucks';

/**
 * The variables a nunjucks template reads from its context, found by walking the parser's AST.
 * nunjucks exposes its parser (`nunjucks.parser`, `nunjucks.nodes`) without types; the little we
 * rely on is typed here. Knowing the names lets validation say "projectName is used in
 * src/index.ts but not declared" before anyone renders.
 */

/** A nunjucks AST node: `typename` names its class, `fields` its child properties. */
interface NjkNode {
  readonly typename: string;
  readonly fields: readonly string[];
  readonly [field: string]: unknown;
}

interface NunjucksParser {
  parse(src: string, extensions?: unknown[], opts?: Record<string, unknown>): NjkNode;
}

const parser = (nunjucks as unknown as { parser: NunjucksParser }).parser;

/** Names nunjucks provides itself: reading them does not need a variable. */
const GLOBALS = new Set(['range', 'cycler', 'joiner']);

function isNode(value: unknown): value is NjkNode {
  return value !== null && typeof value === 'object' && typeof (value as NjkNode).typename === 'string';
}

class Scope {
  private readonly names = new Set<string>();
  constructor(private readonly parent?: Scope) {}
  bind(name: string): void {
    this.names.add(name);
  }
  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? GLOBALS.has(name));
  }
  child(): Scope {
    return new Scope(this);
  }
}

function symbolName(node: unknown): string | undefined {
  return isNode(node) && node.typename === 'Symbol' && typeof node.value === 'string'
    ? node.value
    : undefined;
}

function childrenOf(node: unknown): unknown[] {
  return isNode(node) && Array.isArray(node.children) ? node.children : [];
}

/**
 * Parses `src` as nunjucks (throws nunjucks' TemplateError on a syntax error, with lineno/colno)
 * and returns the top-level names it reads, in order of first use. Names bound by the template
 * itself (`for` targets and `loop`, `set`, macros and their arguments, imports) and nunjucks'
 * globals are not reads; for `a.b` and `a[b]` the root `a` is (and `b` in `a[b]`).
 */
export function readVariables(src: string, lexerOptions: Record<string, unknown> = {}): string[] {
  const reads = new Set<string>();
  const walk = (value: unknown, scope: Scope): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, scope);
      return;
    }
    if (!isNode(value)) return;
    const node = value;
    switch (node.typename) {
      case 'Symbol': {
        const name = symbolName(node);
        if (name !== undefined && !scope.has(name)) reads.add(name);
        return;
      }
      case 'Filter':
      case 'FilterAsync':
        // The name is the filter's, not a variable.
        walk(node.args, scope);
        return;
      case 'Is':
        // The right side names a test (`is defined`, `is divisibleby(3)`); only its arguments are read.
        walk(node.left, scope);
        if (isNode(node.right) && node.right.typename === 'FunCall') walk(node.right.args, scope);
        return;
      case 'Dict':
      case 'KeywordArgs':
        // `{ a: 1 }` and `f(a=1)`: a bare-name key is a literal.
        for (const pair of childrenOf(node)) {
          if (!isNode(pair)) continue;
          if (symbolName(pair.key) === undefined) walk(pair.key, scope);
          walk(pair.value, scope);
        }
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll': {
        walk(node.arr, scope);
        const inner = scope.child();
        inner.bind('loop');
        const targets = symbolName(node.name) !== undefined ? [node.name] : childrenOf(node.name);
        for (const t of targets) {
          const name = symbolName(t);
          if (name !== undefined) inner.bind(name);
        }
        walk(node.body, inner);
        walk(node.else_, scope);
        return;
      }
      case 'Macro':
      case 'Caller': {
        const name = symbolName(node.name);
        if (node.typename === 'Macro' && name !== undefined) scope.bind(name);
        const inner = scope.child();
        inner.bind('caller');
        for (const arg of childrenOf(node.args)) {
          const argName = symbolName(arg);
          if (argName !== undefined) {
            inner.bind(argName);
            continue;
          }
          // Keyword arguments: defaults are evaluated where the macro is defined.
          for (const pair of childrenOf(arg)) {
            if (!isNode(pair)) continue;
            walk(pair.value, scope);
            const key = symbolName(pair.key);
            if (key !== undefined) inner.bind(key);
          }
        }
        walk(node.body, inner);
        return;
      }
      case 'Set': {
        // The value is read before the targets are bound: `{% set x = x + 1 %}` reads x.
        walk(node.value, scope);
        walk(node.body, scope);
        for (const target of Array.isArray(node.targets) ? node.targets : []) {
          const name = symbolName(target);
          if (name !== undefined) scope.bind(name);
        }
        return;
      }
      case 'Import': {
        walk(node.template, scope);
        const name = symbolName(node.target);
        if (name !== undefined) scope.bind(name);
        return;
      }
      case 'FromImport': {
        walk(node.template, scope);
        for (const item of childrenOf(node.names)) {
          const name = symbolName(item) ?? (isNode(item) ? symbolName(item.value) : undefined);
          if (name !== undefined) scope.bind(name);
        }
        return;
      }
      case 'Block':
        walk(node.body, scope.child());
        return;
      case 'Super':
        return;
      default:
        for (const field of node.fields) walk(node[field], scope);
    }
  };
  walk(parser.parse(src, undefined, lexerOptions), new Scope());
  return [...reads];
}
