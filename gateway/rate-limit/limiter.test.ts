import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, uniqueName } from '../../test/services.ts';
import { rateLimitHeaders } from './headers.ts';
import {
  createMemoryRateLimiter,
  createPostgresRateLimiter,
  type RateLimiter,
  type RateLimitRule,
  type RateLimitVerdict,
} from './limiter.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const allowedCount = (verdicts: RateLimitVerdict[]) => verdicts.filter((v) => v.allowed).length;

/** Many consumes at once, alternating over the given limiters (two gateways, or one). */
function burst(limiters: RateLimiter[], rule: RateLimitRule, key: string, n: number) {
  return Promise.all(Array.from({ length: n }, (_, i) => limiters[i % limiters.length]!.consume(rule, key)));
}

function describeRateLimiterContract(name: string, make: () => Promise<RateLimiter>, skip = false): void {
  describe.skipIf(skip)(`RateLimiter contract: ${name}`, () => {
    let limiter: RateLimiter;
    beforeAll(async () => {
      limiter = await make();
    });
    afterAll(() => limiter?.close());

    it('allows exactly the rule’s points out of many concurrent consumes, then refuses', async () => {
      const rule = { id: uniqueName('burst'), points: 7, windowSeconds: 60 };
      const verdicts = await burst([limiter], rule, 'principal-1', 40);
      expect(allowedCount(verdicts)).toBe(7);
      const refused = verdicts.filter((v) => !v.allowed);
      expect(refused.every((v) => v.remaining === 0 && v.resetSeconds >= 1 && v.resetSeconds <= 60)).toBe(
        true,
      );
      expect(refused[0]?.rule).toBe(rule);
    });

    it('reports what is left and when the window ends', async () => {
      const rule = { id: uniqueName('report'), points: 5, windowSeconds: 30 };
      expect(await limiter.consume(rule, 'k')).toEqual({
        allowed: true,
        rule,
        remaining: 4,
        resetSeconds: 30,
      });
      expect(await limiter.consume(rule, 'k', 3)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.consume(rule, 'k', 2)).toMatchObject({ allowed: false, remaining: 0 });
      // The refused 2 still counted, as documented: the last point went with them.
      expect(await limiter.consume(rule, 'k')).toMatchObject({ allowed: false, remaining: 0 });
    });

    it('keeps keys apart: one principal’s exhaustion leaves another’s budget whole', async () => {
      const rule = { id: uniqueName('keys'), points: 3, windowSeconds: 60 };
      expect(allowedCount(await burst([limiter], rule, 'alice', 10))).toBe(3);
      expect(allowedCount(await burst([limiter], rule, 'bob', 10))).toBe(3);
      const long = 'x'.repeat(1000);
      expect(allowedCount(await burst([limiter], rule, long, 10))).toBe(3);
      expect(allowedCount(await burst([limiter], rule, `${long}y`, 10))).toBe(3);
    });

    it('keeps rules apart: the same key under another rule has its own count', async () => {
      const perMinute = { id: uniqueName('per-minute'), points: 2, windowSeconds: 60 };
      const perHour = { id: uniqueName('per-hour'), points: 4, windowSeconds: 3600 };
      expect(allowedCount(await burst([limiter], perMinute, 'carol', 6))).toBe(2);
      const hourly = await burst([limiter], perHour, 'carol', 6);
      expect(allowedCount(hourly)).toBe(4);
      expect(hourly.find((v) => !v.allowed)?.resetSeconds).toBeGreaterThan(60);
    });

    it('gives capacity back once the window has passed', async () => {
      const rule = { id: uniqueName('window'), points: 3, windowSeconds: 1 };
      expect(allowedCount(await burst([limiter], rule, 'dave', 6))).toBe(3);
      await sleep(1_500);
      expect(allowedCount(await burst([limiter], rule, 'dave', 6))).toBe(3);
    });

    it('refuses a rule or a point count it cannot honour, and every consume after close', async () => {
      const rule = { id: 'has:colon', points: 1, windowSeconds: 1 };
      await expect(limiter.consume(rule, 'k')).rejects.toThrow();
      await expect(limiter.consume({ id: 'ok', points: 0, windowSeconds: 1 }, 'k')).rejects.toThrow();
      await expect(limiter.consume({ id: 'ok', points: 1, windowSeconds: 1 }, 'k', 0)).rejects.toThrow();
      const other = await make();
      await other.close();
      await expect(other.consume({ id: 'ok', points: 1, windowSeconds: 1 }, 'k')).rejects.toThrow(/closed/);
    });
  });
}

describeRateLimiterContract('memory', async () => createMemoryRateLimiter());

const databaseUrl = services().databaseUrl;
if (!databaseUrl) {
  console.warn(
    '\n!!! PostgreSQL missing (DATABASE_URL unset): the Postgres rate limiter tests are SKIPPED\n',
  );
}
it.runIf(!databaseUrl && process.env.CI)('has PostgreSQL for the rate limiter on CI', () => {
  expect.fail(
    'DATABASE_URL is unset: the Postgres rate limiter cannot be tested, and on CI that is a failure',
  );
});

describe.skipIf(!databaseUrl)('Postgres rate limiter', () => {
  const table = uniqueName('rate_limits').toLowerCase();
  // Two pools, as two gateways would have.
  const pools = [1, 2].map(() => new pg.Pool({ connectionString: databaseUrl, max: 4 }));
  const opened: RateLimiter[] = [];
  const open = async (pool = pools[0]!) => {
    const limiter = await createPostgresRateLimiter({ pool, table });
    opened.push(limiter);
    return limiter;
  };

  afterAll(async () => {
    for (const limiter of opened) await limiter.close();
    await pools[0]?.query(`DROP TABLE IF EXISTS public."${table}"`);
    await Promise.all(pools.map((p) => p.end()));
  });

  describeRateLimiterContract('postgres', () => open());

  it('allows exactly N in a window across two gateways sharing the database', async () => {
    const [a, b] = await Promise.all(pools.map((p) => open(p)));
    const rule = { id: 'principal-default', points: 25, windowSeconds: 60 };
    const verdicts = await burst([a!, b!], rule, uniqueName('principal'), 200);
    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(25);
    // Each allowed consume saw its own count: no two read the same row state.
    expect(allowed.map((v) => v.remaining).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    );
  });

  it('is an exception, not a verdict, when the database cannot answer', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    const limiter = await createPostgresRateLimiter({ pool, table });
    await pool.end();
    await expect(limiter.consume({ id: 'down', points: 5, windowSeconds: 60 }, 'k')).rejects.toThrow(/pool/i);
    await limiter.close();
  });

  it('refuses a table name it would have to quote', async () => {
    await expect(
      createPostgresRateLimiter({ pool: pools[0]!, table: 'x"; DROP TABLE y; --' }),
    ).rejects.toThrow(TypeError);
  });
});

describe('rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers)', () => {
  const burstRule = { id: 'burst', points: 10, windowSeconds: 1 };
  const daily = { id: 'daily', points: 1000, windowSeconds: 86400 };
  const v = (rule: RateLimitRule, allowed: boolean, remaining: number, resetSeconds: number) => ({
    allowed,
    rule,
    remaining,
    resetSeconds,
  });

  it('states the one policy applied and what is left of it', () => {
    const policy = { id: 'principal-default', points: 100, windowSeconds: 60 };
    expect(rateLimitHeaders([v(policy, true, 99, 60)])).toEqual({
      'RateLimit-Policy': '"principal-default";q=100;w=60',
      RateLimit: '"principal-default";r=99;t=60',
    });
  });

  it('lists every policy and reports the closest to exhaustion', () => {
    expect(rateLimitHeaders([v(burstRule, true, 9, 1), v(daily, true, 3, 36000)])).toEqual({
      'RateLimit-Policy': '"burst";q=10;w=1, "daily";q=1000;w=86400',
      RateLimit: '"daily";r=3;t=36000',
    });
    // Equally exhausted: the longer wait binds.
    expect(rateLimitHeaders([v(daily, true, 0, 36000), v(burstRule, true, 0, 1)]).RateLimit).toBe(
      '"daily";r=0;t=36000',
    );
  });

  it('adds Retry-After when a policy refused, never earlier than the refusing window ends', () => {
    expect(rateLimitHeaders([v(burstRule, false, 0, 1), v(daily, true, 0, 36000)])).toEqual({
      'RateLimit-Policy': '"burst";q=10;w=1, "daily";q=1000;w=86400',
      RateLimit: '"burst";r=0;t=1',
      'Retry-After': '1',
    });
    const both = rateLimitHeaders([v(burstRule, false, 0, 1), v(daily, false, 0, 36000)]);
    expect(both.RateLimit).toBe('"daily";r=0;t=36000');
    expect(both['Retry-After']).toBe('36000');
    // A window that ends within the second still asks the client to wait a whole one.
    expect(rateLimitHeaders([v(burstRule, false, 0, 0)])['Retry-After']).toBe('1');
  });

  it('adds nothing when no policy applied', () => {
    expect(rateLimitHeaders([])).toEqual({});
  });
});
