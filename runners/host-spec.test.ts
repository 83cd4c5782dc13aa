import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../kernel/secrets.ts';
import { envSecretRefs, secretRefPolicy, upstreamSpecFor } from './host-spec.ts';

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

describe('the query of an HTTP upstream', () => {
  it('is opened only in the runner and set on every instance URL, replacing a parameter of the same name', () => {
    const secrets = createSecretBox(randomBytes(32));
    const spec = upstreamSpecFor(
      {
        serverId: '00000000-0000-4000-8000-000000000001',
        name: 'keyed',
        description: undefined,
        tags: [],
        transport: {
          type: 'streamable-http',
          url: 'https://a.test/mcp?region=eu&api_key=stale',
          headers: {},
          query: { api_key: secrets.encrypt('k1'), tenant: { secretRef: 'env:MCP_TENANT' } },
        },
        settings: { extraUrls: ['https://b.test/mcp'] },
      },
      1n,
      secrets,
      envSecretRefs({ MCP_TENANT: 't 1' }, secretRefPolicy('MCP_*')),
    );
    expect(spec.transport).toMatchObject({ url: 'https://a.test/mcp?region=eu&api_key=k1&tenant=t+1' });
    expect(spec.extraUrls).toEqual(['https://b.test/mcp?api_key=k1&tenant=t+1']);
  });
});
