import type { RecordedEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import { categoryOf } from '../kernel/streams.ts';
import { type BusNames, eventSubject } from './bus.port.ts';

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  return tokensMatch(pattern.split('.'), subject.split('.'));
}

export function matchesAny(patterns: readonly string[], subject: string): boolean {
  return patterns.some((p) => subjectMatches(p, subject));
}

/**
 * `matchesAny` for patterns known in advance, on a subject already split into tokens: for a
 * subject tested against many pattern lists, each split once.
 */
export function tokenMatcher(patterns: readonly string[]): (tokens: readonly string[]) => boolean {
  const split = patterns.map((p) => p.split('.'));
  return (tokens) => split.some((p) => tokensMatch(p, tokens));
}

function tokensMatch(p: readonly string[], s: readonly string[]): boolean {
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

export function subjectOf(names: BusNames, event: RecordedEvent): string {
  return eventSubject(names, categoryOf(event.stream), event.type);
}

/** Consumer names become NATS durable names and subject tokens: no dots, wildcards or spaces. */
export function assertToken(value: string, what: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new AppError(
      'validation',
      'BUS.BAD_NAME',
      `invalid ${what} '${value}': use letters, digits, '_' and '-' only`,
    );
  }
}

const SUBJECT_TOKEN_RE = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a subject given relative to the prefix: dot-separated tokens of letters, digits, `_` and
 * `-`; with `wildcards`, `*` as a token and `>` as the last one. Anything else could reach subjects
 * of other deployments or JetStream's API, so it is refused rather than escaped.
 */
export function assertSubject(subject: string, options: { wildcards: boolean }): void {
  const tokens = subject.split('.');
  const ok = tokens.every((t, i) => {
    if (SUBJECT_TOKEN_RE.test(t)) return true;
    if (!options.wildcards) return false;
    return t === '*' || (t === '>' && i === tokens.length - 1);
  });
  if (!ok || subject.length > 512) {
    throw new AppError(
      'validation',
      'BUS.BAD_SUBJECT',
      `invalid subject '${subject.slice(0, 100)}': use dot-separated tokens of letters, digits, '_' and '-'${
        options.wildcards ? " ('*' and a trailing '>' allowed)" : ''
      }`,
    );
  }
}
