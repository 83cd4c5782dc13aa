import { REDACTED } from '../../kernel/secrets.ts';

/**
 * Keys whose values look like secrets. Deliberately broad: a false positive costs an auditor one
 * argument value (e.g. `max_tokens`, `passage`), a false negative puts a credential in an
 * append-only log forever.
 */
export const DEFAULT_REDACTION_PATTERNS: readonly RegExp[] = [
  /pass(word)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key/i,
];

/** Deeper than this, values are replaced rather than walked (a hostile body must not blow the stack). */
const MAX_DEPTH = 64;
export const TOO_DEEP = '[redacted: nested too deep]' as const;

/**
 * A copy of `args` with the value of every key matching one of `patterns` replaced by
 * `"[redacted]"`, at any depth (objects inside arrays too). The value is replaced whole, whatever
 * its type. Strings in `patterns` are case-insensitive regular expressions, so the list can come
 * from configuration.
 */
export function redactArguments<T>(
  args: T,
  patterns: readonly (RegExp | string)[] = DEFAULT_REDACTION_PATTERNS,
): T {
  // Copies without the g/y flags: `test` on those keeps state between calls.
  const res = patterns.map((p) =>
    typeof p === 'string' ? new RegExp(p, 'i') : new RegExp(p.source, p.flags.replace(/[gy]/g, '')),
  );
  const secretKey = (k: string) => res.some((re) => re.test(k));
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = secretKey(k) ? REDACTED : walk(x, depth + 1);
    return out;
  };
  return walk(args, 0) as T;
}
