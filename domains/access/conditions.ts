import { Environment, type ParseResult } from '@marcbachmann/cel-js';

/**
 * Policy conditions are CEL (the Common Expression Language: no loops, no I/O, bounded) — a
 * well-specified language rather than one of our own. The variables a condition may use:
 *   principal  map: id, tenant, name, kind, roles (list), scopes (list)
 *   claims     map: the token's claims (empty for API keys)
 *   action     string, e.g. "tool.call"
 *   server     string: the server's name ("" when the action is not about one)
 *   tool       string: the tool's name ("" when not a tool)
 *   args       map: the tool call's arguments ({} when not a call)
 * e.g. `tool == "delete_file" && !("admin" in principal.roles)` or `args.path.startsWith("/tmp/")`.
 */
export interface ConditionContext {
  principal: {
    id: string;
    tenant: string;
    name: string;
    kind: string;
    roles: readonly string[];
    scopes: readonly string[];
  };
  claims: Readonly<Record<string, unknown>>;
  action: string;
  server: string;
  tool: string;
  args: Readonly<Record<string, unknown>>;
}

const env = new Environment({
  limits: {
    maxAstNodes: 2_000,
    maxDepth: 40,
    maxListElements: 200,
    maxMapEntries: 200,
    maxCallArguments: 16,
  },
})
  .registerVariable('principal', 'map')
  .registerVariable('claims', 'map')
  .registerVariable('action', 'string')
  .registerVariable('server', 'string')
  .registerVariable('tool', 'string')
  .registerVariable('args', 'map');

export type CompiledCondition =
  | { ok: true; evaluate(ctx: ConditionContext): boolean; usesArgs: boolean }
  | { ok: false; error: string };

const cache = new Map<string, CompiledCondition>();

/** Parses and type-checks once per distinct expression; evaluation errors throw. */
export function compileCondition(expression: string): CompiledCondition {
  const hit = cache.get(expression);
  if (hit) return hit;
  let compiled: CompiledCondition;
  try {
    const parsed: ParseResult = env.parse(expression);
    const check = parsed.check();
    if (!check.valid) throw check.error ?? new Error('does not type-check');
    if (check.type !== 'bool' && check.type !== 'dyn')
      throw new Error(`must be a bool expression, is ${check.type}`);
    compiled = {
      ok: true,
      usesArgs: usesArgs(expression),
      evaluate(ctx) {
        const v: unknown = parsed(ctx as unknown as Record<string, unknown>);
        if (typeof v !== 'boolean') throw new Error(`the condition gave ${typeof v}, not a bool`);
        return v;
      },
    };
  } catch (e) {
    compiled = { ok: false, error: firstLine((e as Error).message) };
  }
  if (cache.size > 5_000) cache.clear();
  cache.set(expression, compiled);
  return compiled;
}

/** Whether the expression reads the call's arguments (string literals do not count). */
function usesArgs(expression: string): boolean {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return /(^|[^A-Za-z0-9_.])args\b/.test(code);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 300);
}
