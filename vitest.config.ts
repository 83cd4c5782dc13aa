import { defineConfig } from 'vitest/config';

const exclude = ['node_modules/**', '.data/**', 'templates/builtin/**', 'workspace/**'];

/**
 * The fast tests (`npm run test:unit`, a few seconds): pure modules — no PostgreSQL, NATS, child
 * process, HTTP server or whole system. Everything else needs the services (`npm test` runs all).
 */
const unit = [
  'kernel/**/*.test.ts',
  'event-store/audit/chain.test.ts',
  'domains/**/decider.test.ts',
  'domains/servers/settings.test.ts',
  'domains/access/decide.test.ts',
  'analysis/line-counts.test.ts',
  'analysis/languages.test.ts',
  'bus/nats/connect-options.test.ts',
  'cli/*.format.test.ts',
  'cli/{mcp,access}.command.test.ts',
  'cli/{ndjson,progress,gateway-options,deploy.source}.test.ts',
  'gateway/mcp/{names,search-tools}.test.ts',
  'gateway/metrics/metrics.test.ts',
  'application/toolcalls/call-limits.test.ts',
  'gateway/auth/access-cache.test.ts',
  'runners/host-spec.test.ts',
  'runners/egress.test.ts',
  'runners/pool/{call-router,policies,egress-fetch}.test.ts',
  'runtime/config.test.ts',
  'sagas/discovery/decider.test.ts',
  'sagas/template-sync/template-sync.process.test.ts',
  'templates/engine/{variables,glob,source-policy,load,workspace,render}.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // Suites open PGlite databases and start systems in their hooks: minutes on a loaded machine.
    hookTimeout: 180_000,
    pool: 'forks',
    // Integration tests share one PostgreSQL and one NATS on a 2-core machine.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: unit, exclude } },
      {
        extends: true,
        test: { name: 'integration', include: ['**/*.test.ts'], exclude: [...exclude, ...unit] },
      },
    ],
  },
});
