import nunjucks from 'nunjucks';
import { FORBIDDEN_MEMBER_NAMES, FORBIDDEN_NAMES } from './sandbox/render-core.mjs';

/**
 * What a nunjucks template reads from its context, and what it must not reach, found by walking the
 * parser's AST. nunjucks exposes its parser (`nunjucks.parser`, `nunjucks.nodes`) without types; the
 * little we rely on is typed here. Knowing the names lets validation say "projectName is used in
 * src/index.ts but not declared", and "line 3 reaches constructor", before anyone renders.
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

/** A name a template reaches that no template may: see {@link FORBIDDEN_NAMES}. */
export interface UnsafeAccess {
  name: string;
  /** 1-based, as editors count. */
  line: number;
}

/**
 * Parses `src` as nunjucks (throws nunjucks' TemplateError on a syntax error, with lineno/colno)
 * and returns what {@link readVariables} and {@link unsafeAccesses} find, from one parse.
 */
export function inspectTemplate(
  src: string,
  lexerOptions: Record<string, unknown> = {},
): { reads: string[]; unsafe: UnsafeAccess[] } {
  const root = parser.parse(src, undefined, lexerOptions);
  return { reads: readsOf(root), unsafe: unsafeOf(root) };
}

/**
 * Parses `src` as nunjucks (throws nunjucks' TemplateError on a syntax error, with lineno/colno)
 * and returns the top-level names it reads, in order of first use. Names bound by the template
 * itself (`for` targets and `loop`, `set`, macros and their arguments, imports) and nunjucks'
 * globals are not reads; for `a.b` and `a[b]` the root `a` is (and `b` in `a[b]`).
 */
export function readVariables(src: string, lexerOptions: Record<string, unknown> = {}): string[] {
  return readsOf(parser.parse(src, undefined, lexerOptions));
}

/**
 * Parses `src` and returns every place it names a forbidden property or variable: `range.constructor`,
 * `x["__proto__"]`, `x["constr" ~ "uctor"]`, `{% set k = "prototype" %}`, a filter or test called
 * `constructor`. A name only known at render time (`x[k]` with `k` a variable's value) is not
 * found here; the sandboxed renderer refuses it when it happens (sandbox/render-core.mjs).
 */
export function unsafeAccesses(src: string, lexerOptions: Record<string, unknown> = {}): UnsafeAccess[] {
  return unsafeOf(parser.parse(src, undefined, lexerOptions));
}

function readsOf(root: NjkNode): string[] {
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
  walk(root, new Scope());
  return [...reads];
}

/**
 * A template may name none of these, as a variable, a member, a filter, a test or a string that
 * ends up as one; nor any of FORBIDDEN_MEMBER_NAMES as a member (`{{ caller() }}` is nunjucks').
 */
const FORBIDDEN = new Set(FORBIDDEN_NAMES);
const FORBIDDEN_MEMBER = new Set(FORBIDDEN_MEMBER_NAMES);

/** String filters whose result is known when their input and arguments are (a Map: no inherited keys). */
const FOLDABLE_FILTERS = new Map<string, (input: string, args: string[]) => string>([
  ['lower', (s) => s.toLowerCase()],
  ['upper', (s) => s.toUpperCase()],
  ['trim', (s) => s.trim()],
  ['string', (s) => s],
  ['safe', (s) => s],
  ['reverse', (s) => [...s].reverse().join('')],
  ['replace', (s, [from, to]) => (from === undefined || to === undefined ? s : s.split(from).join(to))],
]);

/**
 * The strings `node` may evaluate to, when that is known without rendering: literals, `~` and `+`
 * of them, a few string filters, `a if c else b`, and `[...] | join`. Undefined when not known.
 */
function constantStrings(node: unknown): string[] | undefined {
  if (!isNode(node)) return undefined;
  const all = (nodes: unknown[]): string[][] | undefined => {
    const out: string[][] = [];
    for (const n of nodes) {
      const c = constantStrings(n);
      if (c === undefined) return undefined;
      out.push(c);
    }
    return out;
  };
  const cross = (a: string[], b: string[]): string[] => a.flatMap((x) => b.map((y) => x + y)).slice(0, 64);
  switch (node.typename) {
    case 'Literal':
      return typeof node.value === 'string' || typeof node.value === 'number'
        ? [String(node.value)]
        : undefined;
    case 'Group': {
      const children = childrenOf(node);
      return children.length === 1 ? constantStrings(children[0]) : undefined;
    }
    case 'Concat':
    case 'Add': {
      const parts = all([node.left, node.right]);
      return parts === undefined ? undefined : cross(parts[0]!, parts[1]!);
    }
    case 'InlineIf': {
      const parts = all([node.body, node.else_]);
      return parts === undefined ? undefined : parts.flat();
    }
    case 'Filter': {
      const name = symbolName(node.name);
      const [input, ...rest] = childrenOf(node.args);
      if (name === 'join' && isNode(input) && input.typename === 'Array') {
        const items = all(childrenOf(input));
        const sep = rest.length === 0 ? [''] : rest.length === 1 ? constantStrings(rest[0]) : undefined;
        if (items === undefined || sep === undefined) return undefined;
        return sep.flatMap((s) =>
          items.reduce<string[]>((acc, item, i) => (i === 0 ? item : cross(cross(acc, [s]), item)), []),
        );
      }
      const fold = name === undefined ? undefined : FOLDABLE_FILTERS.get(name);
      const parts = fold === undefined ? undefined : all([input, ...rest]);
      if (fold === undefined || parts === undefined) return undefined;
      const [inputs, ...args] = parts;
      const fixed = args.map((a) => a[0]!);
      if (args.some((a) => a.length !== 1)) return undefined;
      return inputs!.map((s) => fold(s, fixed));
    }
    default:
      return undefined;
  }
}

function unsafeOf(root: NjkNode): UnsafeAccess[] {
  const found: UnsafeAccess[] = [];
  const note = (name: string, node: NjkNode) => {
    const line = typeof node.lineno === 'number' ? node.lineno + 1 : 1;
    if (!found.some((f) => f.name === name && f.line === line)) found.push({ name, line });
  };
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
      return;
    }
    if (!isNode(value)) return;
    const node = value;
    if (node.typename === 'Symbol') {
      const name = symbolName(node);
      if (name !== undefined && FORBIDDEN.has(name)) note(name, node);
      return;
    }
    if (node.typename === 'LookupVal') {
      // `a.b` parses as a["b"]: the member is a literal, or an expression that may be one.
      for (const name of constantStrings(node.val) ?? []) {
        if (FORBIDDEN_MEMBER.has(name)) note(name, node);
      }
    } else {
      // Any other constant string: `{% set k = "constr" ~ "uctor" %}{{ x[k] }}` is refused at the set.
      const strings = constantStrings(node);
      if (strings !== undefined) {
        for (const name of strings) if (FORBIDDEN.has(name)) note(name, node);
        return;
      }
    }
    for (const field of node.fields) walk(node[field]);
  };
  walk(root);
  return found.sort((a, b) => a.line - b.line);
}
