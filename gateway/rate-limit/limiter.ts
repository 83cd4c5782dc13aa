import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { z } from 'zod';

/**
 * A quota policy: `points` units per fixed window of `windowSeconds`, counted per key. The id names
 * the policy in the RateLimit headers and owns its counters: two rules with different ids never share
 * a count, and in a shared store a rule keeps its count when only its numbers change (one budget
 * across a rolling deploy of a new limit). Ids are restricted so they need no escaping in a header and cannot contain
 * the ':' that separates the policy from the key in the store.
 */
export const rateLimitRuleSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/, 'letters, digits, . _ / - (at most 64)'),
  // The Postgres column is an integer; the draft's q and w are non-negative, w non-zero.
  points: z.number().int().min(1).max(1_000_000_000),
  windowSeconds: z.number().int().min(1).max(31_622_400), // a leap year
});
export type RateLimitRule = z.infer<typeof rateLimitRuleSchema>;

/** The outcome of one consume under one rule. */
export interface RateLimitVerdict {
  allowed: boolean;
  rule: RateLimitRule;
  /** Points left in the current window (0 once it is spent). */
  remaining: number;
  /** Whole seconds (rounded up, >= 0) until the window ends and its capacity returns. */
  resetSeconds: number;
}

/** Port: fixed-window counters per (rule, key). */
export interface RateLimiter {
  /**
   * Takes `points` (default 1) from `key`'s budget under `rule`. Over budget resolves with
   * `allowed: false`; it rejects only when the store fails, and the caller decides to fail closed.
   * A refused consume still counts its points in the window (rate-limiter-flexible's atomic
   * increment-then-compare), so a refused weighted consume can use up what was left of the window.
   */
  consume(rule: RateLimitRule, key: string, points?: number): Promise<RateLimitVerdict>;
  /** Stops background work. A store client passed in (the pg Pool) stays open: it is the caller's. */
  close(): Promise<void>;
}

/** One process's counters; exact within the process, nothing shared between gateways. */
export function createMemoryRateLimiter(): RateLimiter {
  return limiterOver({
    build: (rule) =>
      new RateLimiterMemory({ keyPrefix: rule.id, points: rule.points, duration: rule.windowSeconds }),
    storeKey: (key) => key,
    close: () => {},
  });
}

export interface PostgresRateLimiterOptions {
  pool: pg.Pool;
  /** Table for the counters, created if missing; default `rate_limits`. */
  table?: string;
  /** Default `public`. */
  schema?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const HOUR_MS = 3_600_000;
const SWEEP_EVERY_MS = 5 * 60_000;

/**
 * Counters in one PostgreSQL table shared by every gateway on the database. Each consume is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` (rate-limiter-flexible's), so concurrent consumes from
 * any number of processes are serialised on the key's row: exactly `points` are allowed per window.
 * Windows are judged by each gateway's clock, so gateways are expected to run NTP.
 */
export async function createPostgresRateLimiter(options: PostgresRateLimiterOptions): Promise<RateLimiter> {
  const { pool } = options;
  const tableName = options.table ?? 'rate_limits';
  const schemaName = options.schema ?? 'public';
  for (const name of [tableName, schemaName]) {
    if (!IDENTIFIER.test(name)) throw new TypeError(`rate limit table/schema name not allowed: ${name}`);
  }
  const store = {
    storeClient: pool,
    storeType: 'pool',
    tableName,
    schemaName,
    // The library's sweeper re-arms itself forever in every instance and cannot be stopped; one sweep
    // per gateway (below), stopped by close(), does the same work.
    clearExpiredByTimeout: false,
  };

  // The library owns the table's shape, so it creates it: CREATE TABLE IF NOT EXISTS, with a
  // concurrent creation by another gateway (23505) counted as done. Without the ready callback a
  // failure would be an unhandled rejection; with it, it is this function's rejection. Two roles
  // starting at the same moment can also collide on the table's row type (42710, seen in CI): by
  // then the other has created it, and asking again finds it there.
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        new RateLimiterPostgres({ ...store, points: 1, duration: 1 }, (error) =>
          error ? reject(error) : resolve(),
        );
      });
      break;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (attempt >= 3 || (code !== '42710' && code !== '23505')) throw e;
    }
  }

  const table = `"${schemaName}"."${tableName}"`;
  // Rows of ended windows are never read again (the upsert restarts them); an hour's margin keeps the
  // sweep clear of a gateway whose clock runs behind.
  const sweep = setInterval(() => {
    pool.query(`DELETE FROM ${table} WHERE expire < $1`, [Date.now() - HOUR_MS]).catch(() => {});
  }, SWEEP_EVERY_MS);
  sweep.unref();

  return limiterOver({
    build: (rule) =>
      new RateLimiterPostgres({
        ...store,
        tableCreated: true,
        keyPrefix: rule.id,
        points: rule.points,
        duration: rule.windowSeconds,
      }),
    storeKey: fitKeyColumn,
    close: () => clearInterval(sweep),
  });
}

// The key column is varchar(255) and text cannot hold NUL: a principal id that did not fit would
// fail every consume, so such keys are stored by their digest (prefix <= 64 + ':' + 128 fits).
const MAX_PLAIN_KEY = 128;
function fitKeyColumn(key: string): string {
  if (key.length <= MAX_PLAIN_KEY && !key.includes('\0')) return key;
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

function limiterOver(backend: {
  build(rule: RateLimitRule): RateLimiterAbstract;
  storeKey(key: string): string;
  close(): void;
}): RateLimiter {
  // One library instance per distinct rule; each carries its points and window, the key prefix keeps
  // rules apart in a shared store.
  const limiters = new Map<string, RateLimiterAbstract>();
  let closed = false;

  const limiterFor = (rule: RateLimitRule): RateLimiterAbstract => {
    const cacheKey = `${rule.id}\n${rule.points}\n${rule.windowSeconds}`;
    let limiter = limiters.get(cacheKey);
    if (!limiter) {
      // Once per rule and process: a bad rule would otherwise surface as a malformed header or SQL error.
      rateLimitRuleSchema.parse(rule);
      limiter = backend.build(rule);
      limiters.set(cacheKey, limiter);
    }
    return limiter;
  };

  return {
    async consume(rule, key, points = 1) {
      if (closed) throw new Error('rate limiter is closed');
      if (!Number.isInteger(points) || points < 1) {
        throw new TypeError(`points to consume must be a positive integer, got ${points}`);
      }
      const limiter = limiterFor(rule);
      try {
        return verdict(rule, true, await limiter.consume(backend.storeKey(key), points));
      } catch (error) {
        // The library rejects with a RateLimiterRes when over budget, with the store's error otherwise.
        if (error instanceof RateLimiterRes) return verdict(rule, false, error);
        throw error;
      }
    },
    async close() {
      closed = true;
      limiters.clear();
      backend.close();
    },
  };
}

function verdict(rule: RateLimitRule, allowed: boolean, res: RateLimiterRes): RateLimitVerdict {
  return {
    allowed,
    rule,
    remaining: Math.max(0, res.remainingPoints),
    // msBeforeNext is -1 for a key without expiry, which a rule's window never produces.
    resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)),
  };
}
