import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeploymentAccepted, DeploymentUseCases } from '../../application/deployments/deployments.ts';
import { type DeploymentUpdate, followDeployment } from '../../application/deployments/follow.ts';
import {
  deploymentNotFound,
  RequestDeploymentInput,
  StopDeploymentInput,
} from '../../domains/deployments/index.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { DEPLOYMENT_STATUSES, getDeployment, listDeployments } from '../../projections/deployments/index.ts';
import type { GatewayDeps } from '../deps.ts';
import { redactedUrl, toProblem } from '../error-mapping.ts';
import { commandMetaOf, tenantScopeOf } from '../request-context.ts';
import { NDJSON, wantsProgressStream } from './operations.ts';
import { consistencyQuery, problemResponses, writeAccepted } from './shared.ts';

const PROJECTION = 'deployments';
/** A line at least this often while a step runs quietly, so no proxy takes the stream for dead. */
const HEARTBEAT_MS = 15_000;

const idParams = z.object({ id: z.uuid().describe('Deployment id') });
const waitQuery = z.object({
  wait: z.enum(['true', 'false']).optional().describe('Answer once the read model shows the deployment'),
});
const listQuery = z
  .object({
    server: z.string().min(1).max(63).optional().describe('Only deployments of this server name'),
    status: z.enum(DEPLOYMENT_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
  })
  .extend(consistencyQuery.shape);

const STREAM_DOC =
  'With `Accept: application/x-ndjson` the answer (200) is newline-delimited JSON that follows the deployment until it ends: `{"type":"accepted","id":…,"stream":…,"revision":…}`, then one line per event — `step-started`, `step-completed`, `step-failed` (with the reason and the tail of its output), `stop-requested`, `step-compensated` — and last `succeeded` (server, revision) or `rolled-back` (failed step, reason); `{"type":"heartbeat"}` while a step runs quietly; `{"type":"error","status":…,"body":<problem>}` if following failed (the deployment goes on). Leaving the stream does not stop the deployment (DELETE does).';

export interface DeploymentRoutesDeps {
  deployments: DeploymentUseCases;
  store: EventStore;
  readDb: GatewayDeps['readDb'];
  projections: GatewayDeps['projections'];
  consistencyTimeoutMs: number;
}

/**
 * /api/v1/deployments: build and run a version of an MCP server and put it behind a server name,
 * through the deployment saga; follow it, list and read deployments, stop one, roll back to one.
 * Writes go through the deployment use cases (the same as the MCP tool's and the CLI's); reads
 * come from the `deployments` read model, of the caller's tenant.
 */
export function deploymentsRoutes(deps: DeploymentRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const now = () => new Date();

    async function accepted(
      request: FastifyRequest,
      reply: FastifyReply,
      result: DeploymentAccepted,
      wait: boolean,
    ): Promise<FastifyReply> {
      if (wantsProgressStream(request)) {
        await streamDeployment(request, reply, deps.store, result);
        return reply;
      }
      const projected =
        wait && result.position !== undefined
          ? await deps.projections.waitForPosition(PROJECTION, result.position, deps.consistencyTimeoutMs)
          : undefined;
      return writeAccepted(
        reply,
        { ...result, id: result.deploymentId },
        `/api/v1/deployments/${result.deploymentId}`,
        projected,
      );
    }

    async function awaitPosition(q: { minPosition?: bigint | undefined; waitMs?: number | undefined }) {
      if (q.minPosition === undefined) return;
      await deps.projections.waitForPosition(
        PROJECTION,
        q.minPosition,
        q.waitMs ?? deps.consistencyTimeoutMs,
      );
    }

    app.post(
      '/deployments',
      {
        schema: {
          tags: ['deployments'],
          summary: 'Deploy an MCP server',
          description: `Builds a version of an MCP server — a generated project (\`{"project": id}\`), a template with variables (generated first), a workspace directory or an npm package at an exact version — and puts it behind the server name \`server\`: build, start (replicas), health gate (initialize, ping, expected tools, optional smoke call), switch, drain; any failure undoes what the deployment did and leaves the previous revision serving. One deployment per server at a time (409 DEPLOYMENT.IN_PROGRESS). Answers 202 with the deployment id (\`id\`), stream and revision; an \`Idempotency-Key\` makes a retry answer the same deployment. ${STREAM_DOC}`,
          body: RequestDeploymentInput,
          querystring: waitQuery,
          response: problemResponses([400, 409, 413]),
        },
      },
      async (request, reply) => {
        const meta = commandMetaOf(request, 'deploy', now());
        const result = await deps.deployments.request(request.body, meta);
        return accepted(request, reply, result, request.query.wait === 'true');
      },
    );

    app.get(
      '/deployments',
      {
        schema: {
          tags: ['deployments'],
          summary: 'List deployments of your tenant, newest first',
          querystring: listQuery,
        },
      },
      async (request) => {
        const q = request.query;
        await awaitPosition(q);
        return listDeployments(deps.readDb, {
          ...tenantScopeOf(request.principal),
          server: q.server,
          status: q.status,
          limit: q.limit,
          after: q.cursor,
        });
      },
    );

    app.get(
      '/deployments/:id',
      {
        schema: {
          tags: ['deployments'],
          summary: 'One deployment: status, steps with timings and log tails, outcome',
          params: idParams,
          querystring: consistencyQuery,
        },
      },
      async (request) => {
        await awaitPosition(request.query);
        const found = await getDeployment(deps.readDb, request.params.id, tenantScopeOf(request.principal));
        if (!found) throw deploymentNotFound(request.params.id);
        return found;
      },
    );

    app.delete(
      '/deployments/:id',
      {
        schema: {
          tags: ['deployments'],
          summary: 'Stop a running deployment',
          description:
            'Appends DeploymentStopRequested: the step under way is cut short and what the deployment did is undone (it ends rolled back, the previous revision serving). A finished deployment answers 409 DEPLOYMENT.FINISHED. An optional JSON body `{"reason": …}` is recorded.',
          params: idParams,
          body: StopDeploymentInput.nullish(),
          response: problemResponses([400, 404, 409]),
        },
      },
      async (request, reply) => {
        const meta = commandMetaOf(request, `deployment-stop:${request.params.id}`, now());
        const r = await deps.deployments.stop(request.params.id, request.body?.reason, meta);
        return writeAccepted(
          reply,
          { ...r, id: request.params.id },
          `/api/v1/deployments/${request.params.id}`,
          undefined,
        );
      },
    );

    app.post(
      '/deployments/:id/rollback',
      {
        schema: {
          tags: ['deployments'],
          summary: 'Bring back the revision a deployment put live',
          description: `A new deployment of the same server whose source is the build of deployment \`:id\` (it must have succeeded), through the same saga: not rebuilt, started, checked and switched to. Answers 202 with the new deployment's id. ${STREAM_DOC}`,
          params: idParams,
          querystring: waitQuery,
          response: problemResponses([400, 404, 409]),
        },
      },
      async (request, reply) => {
        const meta = commandMetaOf(request, `deployment-rollback:${request.params.id}`, now());
        const result = await deps.deployments.rollback(request.params.id, meta);
        return accepted(request, reply, result, request.query.wait === 'true');
      },
    );
  };
}

type StreamLine =
  | DeploymentUpdate
  | {
      type: 'accepted';
      id: string;
      stream: string;
      revision: string;
      position: string | null;
      duplicate: boolean;
    }
  | { type: 'heartbeat' }
  | { type: 'error'; status: number; body: unknown };

/**
 * Answers an accepted deployment as NDJSON, one line per event of its stream until it ends. The
 * deployment was recorded before the first line, so a client that goes away stops only its own
 * following, never the deployment.
 */
async function streamDeployment(
  request: FastifyRequest,
  reply: FastifyReply,
  store: EventStore,
  result: DeploymentAccepted,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  const left = new AbortController();
  res.on('close', () => left.abort());
  res.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    location: `/api/v1/deployments/${result.deploymentId}`,
    'content-type': `${NDJSON}; charset=utf-8`,
    'cache-control': 'no-store',
    // A buffering proxy (nginx) would hold the lines back until the end.
    'x-accel-buffering': 'no',
  });
  let lastWrite = Date.now();
  const write = (line: StreamLine) => {
    if (res.destroyed || res.writableEnded) return;
    lastWrite = Date.now();
    res.write(`${JSON.stringify(line)}\n`);
  };
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= HEARTBEAT_MS) write({ type: 'heartbeat' });
  }, HEARTBEAT_MS / 3);
  write({
    type: 'accepted',
    id: result.deploymentId,
    stream: result.stream,
    revision: result.revision.toString(),
    position: result.position?.toString() ?? null,
    duplicate: result.duplicate,
  });
  try {
    await followDeployment(store, result.deploymentId, write, { signal: left.signal });
  } catch (error) {
    const body = toProblem(error);
    body.instance = redactedUrl(request.url);
    body.correlationId = String(request.id);
    request.log.error({ err: error, deploymentId: result.deploymentId }, 'following a deployment failed');
    write({ type: 'error', status: body.status, body });
  } finally {
    clearInterval(heartbeat);
  }
  if (!res.destroyed && !res.writableEnded) res.end();
}
