import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.data/**', 'templates/builtin/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Integration tests share one PostgreSQL and one NATS on a 2-core machine.
    maxWorkers: 2,
  },
});
