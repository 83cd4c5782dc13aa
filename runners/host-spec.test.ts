import { describe, expect, it } from 'vitest';
import { envSecretRefs, secretRefPolicy } from './host-spec.ts';

describe('secret references resolve only what an operator allowed', () => {
  const env = {
    GITHUB_TOKEN: 'gh',
    MCP_SLACK: 'sl',
    HOME: '/root',
    SWITCHYARD_SECRET_KEY: 'k',
    DATABASE_URL: 'postgres://u:p@db/x',
    PGPASSWORD: 'p',
  };

  it('resolves listed names and prefixes, and refuses everything else, naming the reference', () => {
    const resolve = envSecretRefs(env, secretRefPolicy('GITHUB_TOKEN, MCP_*'));
    expect(resolve('env:GITHUB_TOKEN')).toBe('gh');
    expect(resolve('env:MCP_SLACK')).toBe('sl');
    expect(() => resolve('env:HOME')).toThrow(/env:HOME is not one an operator allowed/);
    expect(resolve('vault:kv/x')).toBeUndefined();
  });

  it("never resolves Switchyard's own settings and connection strings, even when allowed", () => {
    const resolve = envSecretRefs(env, secretRefPolicy('SWITCHYARD_*,DATABASE_URL,PG*'));
    for (const ref of ['env:SWITCHYARD_SECRET_KEY', 'env:DATABASE_URL', 'env:PGPASSWORD']) {
      expect(() => resolve(ref)).toThrow(/not one an operator allowed/);
    }
  });

  it('allows nothing by default', () => {
    expect(() => envSecretRefs(env)('env:GITHUB_TOKEN')).toThrow(/SWITCHYARD_SECRET_REFS/);
  });
});
