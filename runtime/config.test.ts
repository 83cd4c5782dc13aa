import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('configuration of identity and access', () => {
  it('authenticates by default', () => {
    expect(parseConfig({}).auth).toMatchObject({ mode: 'on', publicUrl: 'http://127.0.0.1:4000', oidc: [] });
  });

  it('turns authentication off only on loopback, and says why otherwise', () => {
    expect(parseConfig({ SWITCHYARD_AUTH: 'off' }).auth.mode).toBe('off');
    expect(parseConfig({ SWITCHYARD_AUTH: 'off', SWITCHYARD_HOST: '::1' }).auth.mode).toBe('off');
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'gateway.internal']) {
      expect(() => parseConfig({ SWITCHYARD_AUTH: 'off', SWITCHYARD_HOST: host })).toThrow(
        /SWITCHYARD_AUTH: "off" is for local development only.*loopback/,
      );
    }
  });

  it('refuses an admin key that is not shaped like one', () => {
    expect(() => parseConfig({ SWITCHYARD_ADMIN_KEY: 'hunter2' })).toThrow(ConfigError);
    expect(() => parseConfig({ SWITCHYARD_ADMIN_KEY: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('reads one issuer from variables, several from the JSON list, with audiences bound to this gateway', () => {
    const c = parseConfig({
      SWITCHYARD_PUBLIC_URL: 'https://mcp.example.com/',
      SWITCHYARD_OIDC_ISSUER: 'https://id.example.com/',
      SWITCHYARD_OIDC_ROLES: '[{"claim":"realm_access.roles","value":"sy-admin","role":"admin"}]',
      SWITCHYARD_OIDC_TOKEN_TYPES: 'at+jwt,JWT',
      SWITCHYARD_OIDC_ISSUERS: JSON.stringify([
        {
          issuer: 'https://login.microsoftonline.com/t/v2.0',
          audience: 'api://switchyard',
          tenant: 'team-a',
          defaultRoles: [],
        },
      ]),
    });
    expect(c.auth.publicUrl).toBe('https://mcp.example.com');
    expect(c.auth.oidc).toEqual([
      expect.objectContaining({
        issuer: 'https://id.example.com/',
        audience: [
          'https://mcp.example.com',
          'https://mcp.example.com/mcp',
          'https://mcp.example.com/platform/mcp',
          'https://mcp.example.com/servers/*',
        ],
        tokenTypes: ['at+jwt', 'jwt'],
        roles: [{ claim: 'realm_access.roles', value: 'sy-admin', role: 'admin' }],
        defaultRoles: ['reader'],
        tenant: 'default',
      }),
      expect.objectContaining({ audience: ['api://switchyard'], tenant: 'team-a', defaultRoles: [] }),
    ]);
  });

  it('names the bad part of an issuer list', () => {
    expect(() => parseConfig({ SWITCHYARD_OIDC_ISSUERS: '[{"issuer":"nope"}]' })).toThrow(
      /oidc issuer 1: issuer/,
    );
    expect(() =>
      parseConfig({ SWITCHYARD_OIDC_ROLES: '{', SWITCHYARD_OIDC_ISSUER: 'https://i.test' }),
    ).toThrow(/SWITCHYARD_OIDC_ROLES: not JSON/);
  });

  it('allows loopback upstreams when embedded only, unless told, and refuses a bad egress allow list', () => {
    expect(parseConfig({}).egress).toEqual({ allowLoopback: true, allow: [] });
    const distributed = {
      DATABASE_URL: 'postgres://h/db',
      NATS_URL: 'nats://h:4222',
      SWITCHYARD_SECRET_KEY: 'x'.repeat(44),
    };
    expect(parseConfig(distributed).egress.allowLoopback).toBe(false);
    expect(
      parseConfig({
        ...distributed,
        SWITCHYARD_EGRESS_ALLOW_LOOPBACK: 'true',
        SWITCHYARD_EGRESS_ALLOW: '10.0.0.0/8, *.corp.example',
      }).egress,
    ).toEqual({
      allowLoopback: true,
      allow: ['10.0.0.0/8', '*.corp.example'],
    });
    expect(() => parseConfig({ SWITCHYARD_EGRESS_ALLOW: '10.0.0.0/99' })).toThrow(/SWITCHYARD_EGRESS_ALLOW/);
  });
});

describe('configuration of the audit log', () => {
  it('takes a signing key as PEM or as the base64 of its seed, and refuses anything else without echoing it', () => {
    const seed = Buffer.alloc(32, 9).toString('base64');
    expect(parseConfig({ SWITCHYARD_AUDIT_SIGNING_KEY: seed }).audit).toEqual({
      signingKey: seed,
      publicKey: undefined,
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
      verifyThreads: Math.min(availableParallelism(), 8),
    });
    expect(parseConfig({ SWITCHYARD_AUDIT_VERIFY_THREADS: '0' }).audit.verifyThreads).toBe(0);
    expect(() => parseConfig({ SWITCHYARD_AUDIT_VERIFY_THREADS: 'many' })).toThrow(
      /SWITCHYARD_AUDIT_VERIFY_THREADS/,
    );
    expect(() => parseConfig({ SWITCHYARD_AUDIT_SIGNING_KEY: 'c2VjcmV0LXNlZWQ=' })).toThrow(
      /SWITCHYARD_AUDIT_SIGNING_KEY: must be an Ed25519 private key/,
    );
    expect(() => parseConfig({ SWITCHYARD_AUDIT_SIGNING_KEY: 'c2VjcmV0LXNlZWQ=' })).not.toThrow(/c2VjcmV0/);
  });
});
