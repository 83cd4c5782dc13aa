import { REDACTED } from '../kernel/secrets.ts';

/**
 * Token shapes that are secrets wherever they appear in a line: a bearer credential, a Switchyard
 * API key, a JWT, provider keys with a known prefix, and `name=value` / `name: value` pairs whose
 * name says secret. Deliberately broad: a stderr line shown with a word too many redacted costs
 * little, one that leaks a token costs a rotation.
 */
const TOKEN_PATTERNS: Array<[RegExp, (match: string, ...groups: string[]) => string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  [/\bsy_[A-Za-z0-9]+_[A-Za-z0-9_-]+/g, () => REDACTED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, () => REDACTED],
  [
    /\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}|sk-[A-Za-z0-9_-]{16,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b/g,
    () => REDACTED,
  ],
  [
    /\b([A-Za-z0-9_-]*(?:token|secret|password|passwd|api[_-]?key|apikey|authorization|credential)s?)(["']?\s*[=:]\s*["']?)(?!(?:Bearer|Basic)\s|\[redacted\])[^\s"',;&]+/gi,
    // name=value: the name stays, so the line still says what was there (a scheme redacted above too).
    (_m, name, sep) => `${name}${sep}${REDACTED}`,
  ],
];

/** The shortest environment value redacted by value: shorter ones ('1', 'dev') are not secrets. */
const MIN_SECRET_LENGTH = 6;

/**
 * A function that takes secrets out of one line of a server's output before it is kept: every
 * value of the server's own environment (the registration's env, secrets opened) long enough to be
 * one, then the token shapes above. Longest values first, so that a value containing another is
 * replaced whole.
 */
export function stderrRedactor(secretValues: Iterable<string>): (line: string) => string {
  const values = [...new Set(secretValues)]
    .filter((v) => v.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const [pattern, replace] of TOKEN_PATTERNS) {
      out = out.replace(pattern, (match, ...groups) => replace(match, ...(groups as string[])));
    }
    return out;
  };
}
