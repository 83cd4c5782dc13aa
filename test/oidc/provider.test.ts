import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcProvider, startOidcProvider } from './provider.ts';

const RESOURCE = 'https://mcp.example.test/mcp';

describe('the in-process OpenID provider', () => {
  let idp: OidcProvider;
  let jwksUri: string;

  beforeAll(async () => {
    idp = await startOidcProvider({ clients: ['agent-a', 'agent-b'] });
    const discovery = (await (
      await fetch(`${idp.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    jwksUri = String(discovery.jwks_uri);
  });
  afterAll(() => idp.stop());

  // The verifier a resource server would build: JWKS from discovery, RFC 9068 typ.
  const verify = (token: string, jwks = createRemoteJWKSet(new URL(jwksUri)), audience = RESOURCE) =>
    jwtVerify(token, jwks, { issuer: idp.issuer, audience, typ: 'at+jwt' });

  it('publishes its issuer and JWKS in the discovery document', () => {
    expect(jwksUri).toBe(idp.jwksUri);
    expect(jwksUri.startsWith(`${idp.issuer}/`)).toBe(true);
  });

  it('issues an at+jwt for the resource with the requested scope and extra claims', async () => {
    const token = await idp.token({
      resource: RESOURCE,
      clientId: 'agent-a',
      scope: 'mcp:read mcp:execute',
      claims: { email: 'ada@example.com', groups: ['sy-admins'], tenant: 'acme' },
    });

    const { payload, protectedHeader } = await verify(token);

    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: idp.signingKid });
    expect(payload).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCE,
      sub: 'agent-a',
      client_id: 'agent-a',
      scope: 'mcp:read mcp:execute',
      email: 'ada@example.com',
      groups: ['sy-admins'],
      tenant: 'acme',
    });
  });

  it('gives each client its own subject, registering unknown clients on first use', async () => {
    const b = await verify(await idp.token({ resource: RESOURCE, clientId: 'agent-b' }));
    const c = await verify(await idp.token({ resource: RESOURCE, clientId: 'agent-c' }));

    expect([b.payload.sub, c.payload.sub]).toEqual(['agent-b', 'agent-c']);
    expect(b.payload.scope).toBeUndefined();
  });

  it('issues tokens that expire', async () => {
    const token = await idp.token({ resource: RESOURCE, ttlSeconds: 1 });
    await sleep(2_100);

    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it('binds the audience to the resource asked for', async () => {
    const token = await idp.token({ resource: 'https://other.example.test/mcp' });

    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    await expect(verify(token)).rejects.toMatchObject({ claim: 'aud' });
  });

  it('rejects tokens from another issuer', async () => {
    const other = await startOidcProvider();
    try {
      const token = await other.token({ resource: RESOURCE });
      await expect(verify(token)).rejects.toThrow();
      await expect(
        jwtVerify(token, createRemoteJWKSet(new URL(other.jwksUri)), { issuer: idp.issuer }),
      ).rejects.toMatchObject({ claim: 'iss' });
    } finally {
      await other.stop();
    }
  });

  describe('key rotation', () => {
    it('signs with a key the verifier has not seen, found by refetching the JWKS', async () => {
      // jose refetches on an unknown kid only after its cooldown (30 s by default) since the last fetch.
      const jwks = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 0 });
      const before = await idp.token({ resource: RESOURCE });
      await verify(before, jwks);

      await idp.rotateKeys();
      const after = await idp.token({ resource: RESOURCE });

      expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
      expect(decodeProtectedHeader(after).kid).toBe(idp.signingKid);
      await expect(verify(after, jwks)).resolves.toBeDefined();
      await expect(verify(before, jwks)).resolves.toBeDefined();
    });

    it('is not verifiable from a JWKS cached before the rotation while jose cools down', async () => {
      const jwks = createRemoteJWKSet(new URL(jwksUri));
      await verify(await idp.token({ resource: RESOURCE }), jwks);

      await idp.rotateKeys();

      await expect(verify(await idp.token({ resource: RESOURCE }), jwks)).rejects.toBeInstanceOf(
        errors.JWKSNoMatchingKey,
      );
    });

    it('drops the old public keys when told to retire them', async () => {
      const before = await idp.token({ resource: RESOURCE });

      await idp.rotateKeys({ retireOld: true });

      const jwks = createRemoteJWKSet(new URL(jwksUri));
      await expect(verify(before, jwks)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      await expect(verify(await idp.token({ resource: RESOURCE }), jwks)).resolves.toBeDefined();
    });
  });
});
