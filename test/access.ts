import type { FastifyInstance } from 'fastify';
import { createInFlight } from '../application/toolcalls/call-limits.ts';
import { type Authorizer, emptyAccessState, makeAuthorizer } from '../domains/access/index.ts';
import { DEFAULT_TENANT, type Principal } from '../kernel/principal.ts';

/**
 * Identity for tests that drive one part of the gateway on a bare Fastify (without the auth
 * plugin): an administrator, an authorizer over empty access rules, and rate limits that never bite.
 */
export function testAdmin(overrides: Partial<Principal> = {}): Principal {
  return {
    id: 'test-admin',
    tenant: DEFAULT_TENANT,
    name: 'test admin',
    kind: 'service',
    roles: ['admin'],
    scopes: undefined,
    credential: { type: 'api-key', keyId: 'testadminkey0000' },
    claims: {},
    ...overrides,
  };
}

export function testAuthorizer(): Authorizer {
  const state = emptyAccessState();
  return makeAuthorizer({ state: () => state });
}

export const noToolLimits = { tool: async () => ({ verdicts: [], headers: {} }) };

/** In-flight caps high enough never to bite in a test. */
export const roomyInFlight = createInFlight({
  perPrincipal: 10_000,
  perServer: 10_000,
  maxResultBytes: 100_000_000,
});

/** Every request of `app` is `principal`'s (what the auth plugin does after authenticating). */
export function asPrincipal(app: FastifyInstance, principal: Principal = testAdmin()): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = principal;
  });
}

/**
 * A fixed administrator key for systems started by tests (SWITCHYARD_ADMIN_KEY): the system makes
 * sure of it at start, so a test knows a credential before the program writes any file.
 */
export const TEST_ADMIN_KEY = 'sy_testadmin0000000_TESTADMINKEYTESTADMINKEYTESTADMINKEYTESTADM';

/** `Authorization` header of the test administrator. */
export const adminAuth = { authorization: `Bearer ${TEST_ADMIN_KEY}` } as const;
