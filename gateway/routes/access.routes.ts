import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type AccessWriteResult,
  AddGrantInput,
  CreatePrincipalInput,
  CreateTenantInput,
  IssueApiKeyInput,
  SetPolicyInput,
  SetRateLimitInput,
  UpdatePrincipalInput,
} from '../../domains/access/index.ts';
import type { AccessRoutesDeps } from '../ports.ts';
import { commandMetaOf } from '../request-context.ts';
import { problemResponses, writeAccepted } from './shared.ts';

const tenantQuery = z
  .object({ tenant: z.string().min(1).max(63).optional().describe('Administrators: another tenant') })
  .strict();
const uuidParams = z.object({ id: z.uuid() });
const keyParams = z.object({ keyId: z.string().regex(/^[a-z0-9]{16}$/) });
const tags = ['access'];

/**
 * Identity and access over REST: who am I, tenants, principals, API keys (a new key is in the answer
 * once and nowhere else), grants, policies, rate limits, and explain. Every answer is filtered to
 * what the caller may see; every write is an event whose actor is the caller.
 */
export function accessRoutes(deps: AccessRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const now = () => new Date();
    const accepted = (reply: FastifyReply, r: AccessWriteResult, location: string) =>
      writeAccepted(reply, r, location, undefined);

    app.get(
      '/me',
      { schema: { tags, summary: 'Who am I: principal, tenant, roles, scopes, effective permissions' } },
      async (request) => deps.identity.me(request.principal),
    );

    app.get(
      '/tenants',
      { schema: { tags, summary: 'Tenants (one’s own; all of them for administrators)' } },
      async (request) => ({
        items: deps.identity.listTenants(request.principal),
      }),
    );
    app.post(
      '/tenants',
      {
        schema: {
          tags,
          summary: 'Create a tenant (administrators)',
          body: CreateTenantInput,
          response: problemResponses([400, 403, 409]),
        },
      },
      async (request, reply) => {
        const r = await deps.identity.createTenant(
          request.principal,
          request.body,
          commandMetaOf(request, 'tenant', now()),
        );
        return accepted(reply, r, `/api/v1/tenants/${r.id}`);
      },
    );

    app.get(
      '/principals',
      { schema: { tags, summary: "The tenant's principals", querystring: tenantQuery } },
      async (request) => ({
        items: deps.identity.listPrincipals(request.principal, request.query.tenant),
      }),
    );
    app.get(
      '/principals/:id',
      { schema: { tags, summary: 'One principal', params: uuidParams } },
      async (request) => deps.identity.getPrincipal(request.principal, request.params.id),
    );
    app.post(
      '/principals',
      {
        schema: {
          tags,
          summary: 'Create a user or service account',
          body: CreatePrincipalInput,
          response: problemResponses([400, 403]),
        },
      },
      async (request, reply) => {
        const r = await deps.identity.createPrincipal(
          request.principal,
          request.body,
          commandMetaOf(request, 'principal', now()),
        );
        return accepted(reply, r, `/api/v1/principals/${r.id}`);
      },
    );
    app.patch(
      '/principals/:id',
      {
        schema: {
          tags,
          summary: "Change a principal's roles, or disable/enable it",
          params: uuidParams,
          body: UpdatePrincipalInput,
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const r = await deps.identity.updatePrincipal(
          request.principal,
          id,
          request.body,
          commandMetaOf(request, `principal:${id}`, now()),
        );
        return accepted(reply, r, `/api/v1/principals/${id}`);
      },
    );
    app.post(
      '/principals/:id/erase',
      {
        schema: {
          tags,
          summary: "Erase a principal's personal data (crypto-shredding) and disable it for good",
          description:
            "Destroys the principal's data keys: its name and the arguments of its tool calls, sealed with them in the log, can no longer be read by anyone, and read models show them as erased once rebuilt (POST /api/v1/projections/<name>/rebuild). The log is not rewritten and `audit verify` still passes. Recorded as PrincipalErased.",
          params: uuidParams,
          response: {
            200: z.object({
              id: z.string(),
              keysDestroyed: z.number().int(),
              stream: z.string(),
              revision: z.string(),
              position: z.string().nullable(),
            }),
            ...problemResponses([400, 403, 404]),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const r = await deps.erasure.erasePrincipal(
          request.principal,
          id,
          commandMetaOf(request, `principal-erase:${id}`, now()),
        );
        // Done when answered (the keys are gone), hence 200, with the count of keys destroyed.
        const position = r.position?.toString() ?? null;
        if (position) reply.header('switchyard-position', position);
        return {
          id: r.id,
          keysDestroyed: r.keysDestroyed,
          stream: r.stream,
          revision: r.revision.toString(),
          position,
        };
      },
    );

    app.get(
      '/api-keys',
      {
        schema: {
          tags,
          summary: 'API keys (one’s own; a manager sees the tenant’s) — never the key itself',
          querystring: z.object({ principal: z.uuid().optional() }).strict(),
        },
      },
      async (request) => ({ items: deps.identity.listKeys(request.principal, request.query.principal) }),
    );
    app.post(
      '/api-keys',
      {
        schema: {
          tags,
          summary: 'Create an API key: the answer holds the key, shown this once',
          description:
            'For oneself by default; a manager may create keys for principals of the tenant. The key is stored only as a keyed hash.',
          body: IssueApiKeyInput,
        },
      },
      async (request, reply) => {
        const r = await deps.identity.issueKey(
          request.principal,
          request.body,
          commandMetaOf(request, 'api-key', now()),
        );
        reply.header('cache-control', 'no-store');
        return reply
          .status(201)
          .header('location', `/api/v1/api-keys/${r.id}`)
          .send({ ...r.view, key: r.key, position: r.position?.toString() ?? null });
      },
    );
    app.post(
      '/api-keys/:keyId/rotate',
      {
        schema: {
          tags,
          summary: 'Replace a key with a new one (same name, principal, scopes); the old one is revoked',
          params: keyParams,
        },
      },
      async (request, reply) => {
        const { keyId } = request.params;
        const r = await deps.identity.rotateKey(
          request.principal,
          keyId,
          commandMetaOf(request, `rotate:${keyId}`, now()),
        );
        reply.header('cache-control', 'no-store');
        return reply.status(201).send({ ...r.view, key: r.key, position: r.position?.toString() ?? null });
      },
    );
    app.delete(
      '/api-keys/:keyId',
      {
        schema: {
          tags,
          summary: 'Revoke a key: refused by every gateway within a second',
          params: keyParams,
        },
      },
      async (request, reply) => {
        const { keyId } = request.params;
        const r = await deps.identity.revokeKey(
          request.principal,
          keyId,
          commandMetaOf(request, `revoke:${keyId}`, now()),
        );
        return accepted(reply, r, `/api/v1/api-keys/${keyId}`);
      },
    );

    app.get(
      '/grants',
      { schema: { tags, summary: 'Grants of the tenant', querystring: tenantQuery } },
      async (request) => ({
        items: deps.rules.listGrants(request.principal, request.query.tenant),
      }),
    );
    app.post(
      '/grants',
      {
        schema: {
          tags,
          summary:
            'Grant a permission to a principal or the whole tenant, on the tenant, a server or a tool pattern',
          body: AddGrantInput,
          response: problemResponses([400, 403, 404]),
        },
      },
      async (request, reply) => {
        const r = await deps.rules.addGrant(
          request.principal,
          request.body,
          commandMetaOf(request, 'grant', now()),
        );
        return accepted(reply, r, `/api/v1/grants/${r.id}`);
      },
    );
    app.delete(
      '/grants/:id',
      { schema: { tags, summary: 'Remove a grant', params: uuidParams } },
      async (request, reply) => {
        const { id } = request.params;
        return accepted(
          reply,
          await deps.rules.removeGrant(request.principal, id, commandMetaOf(request, `ungrant:${id}`, now())),
          `/api/v1/grants/${id}`,
        );
      },
    );

    app.get(
      '/policies',
      { schema: { tags, summary: 'Policies of the tenant', querystring: tenantQuery } },
      async (request) => ({
        items: deps.rules.listPolicies(request.principal, request.query.tenant),
      }),
    );
    app.post(
      '/policies',
      {
        schema: {
          tags,
          summary: 'Add a policy: allow or deny actions on servers/tools, with a CEL condition',
          body: SetPolicyInput,
          response: problemResponses([400, 403]),
        },
      },
      async (request, reply) => {
        const r = await deps.rules.setPolicy(
          request.principal,
          request.body,
          commandMetaOf(request, 'policy', now()),
        );
        return accepted(reply, r, `/api/v1/policies/${r.id}`);
      },
    );
    app.put(
      '/policies/:id',
      {
        schema: {
          tags,
          summary: 'Replace a policy with a new version',
          params: uuidParams,
          body: SetPolicyInput,
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const r = await deps.rules.setPolicy(
          request.principal,
          request.body,
          commandMetaOf(request, `policy:${id}`, now()),
          id,
        );
        return accepted(reply, r, `/api/v1/policies/${id}`);
      },
    );
    app.delete(
      '/policies/:id',
      { schema: { tags, summary: 'Remove a policy', params: uuidParams } },
      async (request, reply) => {
        const { id } = request.params;
        return accepted(
          reply,
          await deps.rules.removePolicy(
            request.principal,
            id,
            commandMetaOf(request, `unpolicy:${id}`, now()),
          ),
          `/api/v1/policies/${id}`,
        );
      },
    );

    app.get(
      '/rate-limits',
      { schema: { tags, summary: 'Rate limits that apply to the tenant', querystring: tenantQuery } },
      async (request) => ({
        items: deps.rules.listRateLimits(request.principal, request.query.tenant),
      }),
    );
    app.post(
      '/rate-limits',
      {
        schema: {
          tags,
          summary: 'Set a rate limit: per address, per principal, or per principal and tool',
          body: SetRateLimitInput,
          response: problemResponses([400, 403]),
        },
      },
      async (request, reply) => {
        const r = await deps.rules.setRateLimit(
          request.principal,
          request.body,
          commandMetaOf(request, 'rate-limit', now()),
        );
        return accepted(reply, r, `/api/v1/rate-limits/${r.id}`);
      },
    );
    app.delete(
      '/rate-limits/:id',
      { schema: { tags, summary: 'Remove a rate limit', params: uuidParams } },
      async (request, reply) => {
        const { id } = request.params;
        return accepted(
          reply,
          await deps.rules.removeRateLimit(
            request.principal,
            id,
            commandMetaOf(request, `unlimit:${id}`, now()),
          ),
          `/api/v1/rate-limits/${id}`,
        );
      },
    );

    app.get(
      '/authz/explain',
      {
        schema: {
          tags,
          summary: 'Why a principal may or may not do something — now, or as of `at`',
          description:
            '`action` is an action name (e.g. tool.call); `server` and `tool` name what it is about; `args` is a JSON object of tool arguments; `at` an ISO 8601 instant to evaluate against the rules of that time.',
          querystring: z
            .object({
              principal: z.uuid().optional(),
              action: z.string().min(1).max(60),
              server: z.string().min(1).max(63).optional(),
              tool: z.string().min(1).max(256).optional(),
              args: z.string().max(10_000).optional(),
              at: z.string().max(40).optional(),
            })
            .strict(),
        },
      },
      async (request) => {
        const { args, ...rest } = request.query;
        let parsedArgs: unknown;
        try {
          parsedArgs = args === undefined ? undefined : JSON.parse(args);
        } catch {
          parsedArgs = null;
        }
        return deps.rules.explain(
          request.principal,
          { ...rest, ...(args !== undefined && { args: parsedArgs }) },
          deps.serverOf,
        );
      },
    );
  };
}
