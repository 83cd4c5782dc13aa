import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { hasNats, hasPostgres } from '../../test/services.ts';
import { client, startGatewayPair } from '../../test/systems.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! two-gateway access tests SKIPPED: they need DATABASE_URL and NATS_URL');

/** Polls `f` until it is true or `withinMs` has passed; resolves with whether it became true. */
async function becomes(f: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await f()) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

/**
 * Two gateways of one deployment (PostgreSQL + NATS): what one is told about access, the other
 * enforces — revocations within a second, rate limits counted once for both.
 */
describe.skipIf(!enabled)('access across two gateways', () => {
  let pair: Awaited<ReturnType<typeof startGatewayPair>>;
  let a: System;
  let b: System;

  beforeAll(async () => {
    pair = await startGatewayPair();
    a = pair.a;
    b = pair.b;
  }, 120_000);
  afterAll(() => pair?.stop(), 60_000);

  async function newKey(body: Record<string, unknown> = {}) {
    const res = await client(a)('/api/v1/api-keys', { body: { name: 'k', ...body } });
    expect(res.status).toBe(201);
    return res.json as { keyId: string; key: string };
  }

  it('a key revoked on one gateway is refused by the other within one second', async () => {
    const { keyId, key } = await newKey();
    // The other gateway knows the new key (it was announced on the bus)…
    expect(await becomes(async () => (await client(b, key)('/api/v1/me')).status === 200, 1_000)).toBe(true);
    const revoked = await client(a)(`/api/v1/api-keys/${keyId}`, { method: 'DELETE' });
    expect(revoked.status).toBe(202);
    // …and refuses it, once revoked, within a second — the revoking gateway at once.
    expect((await client(a, key)('/api/v1/me')).status).toBe(401);
    expect(await becomes(async () => (await client(b, key)('/api/v1/me')).status === 401, 1_000)).toBe(true);
  });

  it('a removed grant is refused by the other gateway within one second', async () => {
    const principal = await client(a)('/api/v1/principals', { body: { name: 'svc', roles: [] } });
    const principalId = principal.json.id as string;
    const { key } = await newKey({ principalId });
    const grant = await client(a)('/api/v1/grants', {
      body: {
        subject: { type: 'principal', id: principalId },
        permission: 'mcp:read',
        resource: { type: 'tenant' },
      },
    });
    expect(grant.status).toBe(202);
    const calls = async () => (await client(b, key)('/api/v1/tool-calls')).status;
    expect(await becomes(async () => (await calls()) === 200, 1_000)).toBe(true);
    await client(a)(`/api/v1/grants/${grant.json.id}`, { method: 'DELETE' });
    expect(await becomes(async () => (await calls()) === 403, 1_000)).toBe(true);
  });

  it('counts a principal rate limit once for both gateways: exactly the configured number succeeds', async () => {
    const principal = await client(a)('/api/v1/principals', { body: { name: 'limited', roles: ['reader'] } });
    const principalId = principal.json.id as string;
    const { key } = await newKey({ principalId });
    const limit = await client(a)('/api/v1/rate-limits', {
      body: {
        name: 'limited principal',
        scope: 'principal',
        points: 7,
        windowSeconds: 3600,
        match: { principal: principalId },
      },
    });
    expect(limit.status).toBe(202);
    expect(
      await becomes(async () => (await client(b)('/api/v1/rate-limits')).json.items?.length === 1, 1_000),
    ).toBe(true);

    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => client(i % 2 === 0 ? a : b, key)('/api/v1/servers')),
    );
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok.length).toBe(7);
    expect(limited.length).toBe(23);
    const refused = limited[0]!;
    expect(refused.json.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-policy')).toMatch(/^"rl-[0-9a-f-]+";q=7;w=3600$/);
    expect(refused.headers.get('ratelimit')).toMatch(/;r=0;t=\d+$/);
    expect(ok[0]!.headers.get('ratelimit')).toMatch(/;r=\d+;t=\d+$/);
  });
});
