export { rateLimitHeaders } from './headers.ts';
export {
  createMemoryRateLimiter,
  createPostgresRateLimiter,
  type PostgresRateLimiterOptions,
  type RateLimiter,
  type RateLimitRule,
  type RateLimitVerdict,
  rateLimitRuleSchema,
} from './limiter.ts';
