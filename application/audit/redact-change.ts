import type { StoredTransport } from '../../domains/servers/index.ts';
import { redactArguments } from '../../kernel/redaction.ts';
import { isSealedSecret, REDACTED } from '../../kernel/secrets.ts';
import { redactTransport } from '../../projections/servers/index.ts';

/**
 * What a change shows of an event's data. Events hold no secret in clear (DESIGN: sealed or by
 * reference), and still nothing sealed leaves here either: a server's transport is shown as the
 * servers read model and REST show it (env, header and query names kept, values '[redacted]',
 * references as such), any other sealed value anywhere becomes '[redacted]', and every string is
 * passed through the tool-call argument redaction's credential shapes (a token in a git URL, a
 * `Bearer …` in a reason). Key names are not judged here (an event's `keyId` is not a key).
 */
export function redactChangeData(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return walk(data, 0);
  const record = data as Record<string, unknown>;
  const transport = record.transport as StoredTransport | undefined;
  const shown =
    transport && typeof transport === 'object' && typeof transport.type === 'string'
      ? { ...record, transport: redactTransport(transport) }
      : record;
  return walk(shown, 0);
}

const MAX_DEPTH = 64;

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactArguments(value);
  if (value === null || typeof value !== 'object') return value;
  if (isSealedSecret(value)) return REDACTED;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, depth + 1)]));
}
