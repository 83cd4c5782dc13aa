import fc from 'fast-check';
import { ROUTE_ACTIONS } from '../../gateway/auth/route-actions.ts';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { encodeSegment, hostileString, hostileValue } from './hostile.ts';

/**
 * Hostile requests for every REST route of the authorization table: path parameters, query strings
 * and bodies made of values an attacker would try (NUL, lone surrogates, traversal, huge numbers,
 * deep nesting, prototype keys, type confusion: ./hostile.ts). Used by the bounded run in `npm test` and by the
 * long run (`npm run fuzz`).
 */

const routes = Object.entries(ROUTE_ACTIONS)
  .filter(([key]) => !key.endsWith('/mcp'))
  .map(([key]) => key.split(' ') as [string, string]);

export interface FuzzCase {
  method: string;
  path: string;
  body: unknown;
  correlationId: string;
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    route: fc.constantFrom(...routes),
    params: fc.array(hostileString, { minLength: 3, maxLength: 3 }),
    query: fc.dictionary(
      fc.constantFrom(
        'limit',
        'after',
        'cursor',
        'server',
        'tool',
        'action',
        'at',
        'minPosition',
        'q',
        'tenant',
        'principal',
        'args',
        'status',
        'from',
      ),
      hostileString,
      { maxKeys: 3 },
    ),
    body: fc.option(hostileValue, { nil: undefined }),
    n: fc.nat(),
  })
  .map(({ route: [method, url], params, query, body, n }) => {
    let i = 0;
    const path = url.replace(/:[A-Za-z]+/g, () => encodeSegment(params[i++] ?? ''));
    const qs = new URLSearchParams(query).toString();
    return {
      method,
      path: qs ? `${path}?${qs}` : path,
      body: method === 'GET' || method === 'DELETE' ? undefined : body,
      correlationId: `fuzz-${n}-${Math.random().toString(36).slice(2)}`,
    };
  });

/** Sends one case; answers the status and whether the rules held (no 5xx; a refusal appended nothing). */
export async function runCase(system: System, c: FuzzCase): Promise<{ status: number; problem?: string }> {
  const res = await fetch(`${system.url}${c.path}`, {
    method: c.method,
    headers: {
      ...adminAuth,
      'x-correlation-id': c.correlationId,
      ...(c.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(c.body !== undefined && { body: JSON.stringify(c.body) }),
    signal: AbortSignal.timeout(30_000),
  });
  // A live feed (GET /api/v1/events/stream) that accepted the request never ends: its status is
  // the answer, and the stream is let go.
  const live = res.headers.get('content-type')?.startsWith('text/event-stream') === true;
  if (live) await res.body?.cancel();
  const text = live ? '' : await res.text();
  if (res.status >= 500)
    return {
      status: res.status,
      problem: `${c.method} ${c.path} answered ${res.status}: ${text.slice(0, 300)}`,
    };
  if (res.status >= 400) {
    const caused = (await system.store.readAll({ maxCount: 100_000 })).filter(
      (e) => e.metadata.correlationId === c.correlationId,
    );
    if (caused.length > 0)
      return {
        status: res.status,
        problem: `${c.method} ${c.path} was refused (${res.status}) yet appended ${caused.map((e) => e.type).join(', ')}`,
      };
  }
  return { status: res.status };
}
