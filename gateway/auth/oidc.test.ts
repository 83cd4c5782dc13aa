import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { type OidcProvider, startOidcProvider } from '../../test/oidc/provider.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

const PUBLIC = 'https://mcp.switchyard.test';
const RESOURCE = `${PUBLIC}/mcp`;

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const mcpHeaders = { accept: 'application/json, text/event-stream' };

/**
 * Bearer tokens of a real OpenID provider (oidc-provider, in-process): the gateway as an OAuth
 * resource server, per the MCP authorization spec (2025-11-25).
 */
describe('OIDC bearer tokens', () => {
  let idp: OidcProvider;
  let other: OidcProvider;
  let system: System;
  const as = (token: string) => client(system, token);

  beforeAll(async () => {
    idp = await startOidcProvider();
    other = await startOidcProvider();
    system = await startMemorySystem({
      SWITCHYARD_PUBLIC_URL: PUBLIC,
      SWITCHYARD_OIDC_ISSUER: idp.issuer,
      SWITCHYARD_OIDC_ROLES: JSON.stringify([{ claim: 'groups', value: 'sy-writers', role: 'writer' }]),
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    });
  });
  afterAll(async () => {
    await system?.stop();
    await idp?.stop();
    await other?.stop();
  });

  it('publishes Protected Resource Metadata for the gateway and for /mcp (RFC 9728)', async () => {
    const anyone = client(system, '');
    const mcp = await fetch(`${system.url}/.well-known/oauth-protected-resource/mcp`);
    expect(mcp.status).toBe(200);
    expect(await mcp.json()).toMatchObject({
      resource: RESOURCE,
      authorization_servers: [idp.issuer],
      scopes_supported: ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'],
      bearer_methods_supported: ['header'],
    });
    const root = await fetch(`${system.url}/.well-known/oauth-protected-resource`);
    expect((await root.json()) as object).toMatchObject({ resource: PUBLIC });
    // …and points a client without a token there.
    const res = await anyone('/mcp', { body: initialize, headers: mcpHeaders });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:execute"`,
    );
  });

  it('accepts a valid token, provisions its user just in time as an event, and maps claims to roles', async () => {
    const token = await idp.token({
      resource: RESOURCE,
      clientId: 'alice',
      scope: 'mcp:read mcp:execute mcp:write',
      claims: { email: 'alice@example.test', groups: ['sy-writers'] },
    });
    const me = await as(token)('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      name: 'alice@example.test',
      kind: 'user',
      tenant: 'default',
      scopes: ['mcp:read', 'mcp:execute', 'mcp:write'],
      credential: { type: 'oidc', issuer: idp.issuer, subject: 'alice' },
    });
    expect((me.json.roles as string[]).sort()).toEqual(['reader', 'writer']);
    const provisioned = await system.store.readAll({ filter: { types: ['PrincipalCreated'] } });
    const alice = provisioned.find((e) => (e.data as { principalId: string }).principalId === me.json.id);
    expect(alice?.data).toMatchObject({
      kind: 'user',
      source: { type: 'oidc', issuer: idp.issuer, subject: 'alice' },
      // The email is personal data: sealed with alice's own key in the log (erasable), never in clear.
      name: { $sealed: expect.stringMatching(/^pd1\./) },
    });
    expect(JSON.stringify(alice?.data)).not.toContain('alice@example.test');
    // The same user again: the same principal, nothing provisioned twice.
    const again = await as(await idp.token({ resource: RESOURCE, clientId: 'alice' }))('/api/v1/me');
    expect(again.json.id).toBe(me.json.id);
    const after = await system.store.readAll({ filter: { types: ['PrincipalCreated'] } });
    expect(after.length).toBe(provisioned.length);
  });

  it('refuses a token for another audience, from another issuer, or garbled — 401, nothing recorded', async () => {
    const before = (await system.store.readAll({ maxCount: 100_000 })).length;
    for (const token of [
      await idp.token({ resource: 'https://elsewhere.test/mcp', clientId: 'mallory' }),
      await other.token({ resource: RESOURCE, clientId: 'mallory' }),
      `${(await idp.token({ resource: RESOURCE, clientId: 'mallory' })).slice(0, -4)}AAAA`,
      'not-a-token-at-all',
    ]) {
      const res = await as(token)('/api/v1/me');
      expect(res.status).toBe(401);
      expect(res.json.code).toBe('AUTH.INVALID_CREDENTIAL');
      expect(res.headers.get('www-authenticate')).toContain('resource_metadata=');
    }
    // No principal was provisioned for any of them.
    const principals = await system.store.readAll({ filter: { types: ['PrincipalCreated'] } });
    expect(principals.some((e) => JSON.stringify(e.data).includes('mallory'))).toBe(false);
    expect((await system.store.readAll({ maxCount: 100_000 })).length).toBeGreaterThanOrEqual(before);
  });

  it('refuses an expired token', { timeout: 20_000 }, async () => {
    const token = await idp.token({ resource: RESOURCE, clientId: 'bob', ttlSeconds: 1 });
    expect((await as(token)('/api/v1/me')).status).toBe(200);
    // Past its expiry and the verifier's clock tolerance (5 s).
    await sleep(7_000);
    const res = await as(token)('/api/v1/me');
    expect(res.status).toBe(401);
  });

  it('follows a signing-key rotation: a token signed by a new key verifies once its JWKS is fetched again', async () => {
    expect((await as(await idp.token({ resource: RESOURCE, clientId: 'carol' }))('/api/v1/me')).status).toBe(
      200,
    );
    const before = idp.signingKid;
    await idp.rotateKeys({ retireOld: true });
    expect(idp.signingKid).not.toBe(before);
    // The verifier refetches a JWKS for an unknown key id at most once a second.
    await sleep(1_100);
    const res = await as(await idp.token({ resource: RESOURCE, clientId: 'carol' }))('/api/v1/me');
    expect(res.status).toBe(200);
  });

  it('answers a token whose scopes are too narrow with 403 insufficient_scope naming what to ask for (step-up)', async () => {
    const narrow = await idp.token({
      resource: RESOURCE,
      clientId: 'dave',
      scope: 'mcp:read',
      claims: { groups: ['sy-writers'] },
    });
    const rest = await as(narrow)('/api/v1/projects', { body: { template: 'x', destination: 'y' } });
    expect(rest.status).toBe(403);
    expect(rest.json.code).toBe('AUTH.INSUFFICIENT_SCOPE');
    expect(rest.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource", scope="mcp:write"`,
    );
    // On MCP, the call that needs more is refused at the HTTP layer, before any session sees it.
    const call = {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'switchyard__generate-project', arguments: { template: 'x', destination: 'y' } },
    };
    const mcp = await as(narrow)('/mcp', { body: call, headers: mcpHeaders });
    expect(mcp.status).toBe(403);
    expect(mcp.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(mcp.headers.get('www-authenticate')).toContain('scope="mcp:write"');
    // The wider token gets through.
    const wide = await idp.token({
      resource: RESOURCE,
      clientId: 'dave',
      scope: 'mcp:read mcp:write',
      claims: { groups: ['sy-writers'] },
    });
    const ok = await as(wide)('/mcp', { body: initialize, headers: mcpHeaders });
    expect(ok.status).toBe(200);
  });
});
