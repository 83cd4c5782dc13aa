import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Gauge, Histogram } from 'prom-client';
import { randomIds } from '../kernel/ids.ts';
import { authPlugin } from './auth/auth.plugin.ts';
import { resourceMetadataRoutes } from './auth/resource-metadata.ts';
import { browserGuardPlugin } from './browser-guard.ts';
import { consoleRoutes } from './console/console.routes.ts';
import type { GatewayDeps } from './deps.ts';
import { edgeInputPlugin } from './edge-input.plugin.ts';
import { handleHttpError, notFoundHandler, redactedUrl } from './error-mapping.ts';
import { accessRoutes } from './routes/access.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { auditReplayRoutes } from './routes/audit-replay.routes.ts';
import { deploymentsRoutes } from './routes/deployments.routes.ts';
import { eventsRoutes } from './routes/events.routes.ts';
import { eventsLiveRoutes } from './routes/events-live.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { LiveFeeds } from './routes/live-events.ts';
import { projectionsRoutes } from './routes/projections.routes.ts';
import { projectsRoutes } from './routes/projects.routes.ts';
import { serverDetailsRoutes } from './routes/server-details.routes.ts';
import { serverRuntimeRoutes } from './routes/server-runtime.routes.ts';
import { serversRoutes } from './routes/servers.routes.ts';
import { serversHealthRoutes } from './routes/servers-health.routes.ts';
import { systemRoutes } from './routes/system.routes.ts';
import { templatesRoutes } from './routes/templates.routes.ts';
import { toolCallsRoutes } from './routes/tool-calls.routes.ts';
import { toolPaths, toolsRoutes } from './routes/tools.routes.ts';
import { toolsetsRoutes } from './routes/toolsets.routes.ts';
import { webhooksRoutes } from './routes/webhooks.routes.ts';
import { tracingPlugin } from './tracing.plugin.ts';

const CORRELATION_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP gateway (no listen): tests drive it with inject(), the composition root listens. */
export async function buildApp(deps: GatewayDeps) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ module: 'gateway' }),
    bodyLimit: deps.bodyLimit,
    ...(deps.timeouts && {
      requestTimeout: deps.timeouts.requestMs,
      keepAliveTimeout: deps.timeouts.keepAliveMs,
      // Node checks those timeouts on this period (30 s by default): a slow client must not outlive it.
      http: {
        headersTimeout: deps.timeouts.headersMs,
        connectionsCheckingInterval: Math.min(1_000, deps.timeouts.headersMs),
      },
    }),
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-correlation-id'];
      const v = Array.isArray(h) ? h[0] : h;
      return v && CORRELATION_RE.test(v) ? v : randomIds.uuid();
    },
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleHttpError);
  app.setNotFoundHandler(notFoundHandler);
  // First of all: its hooks must see every upgrade request before any other hook can refuse it,
  // so that a refused upgrade's socket is closed (and before every route, so that an upgrade on
  // a route that does not speak WebSocket is closed too).
  const liveFeeds = new LiveFeeds();
  await app.register(fastifyWebsocket, {
    options: { maxPayload: deps.bodyLimit },
    // The live event feeds say why they end (a final message) before every socket closes.
    preClose: async function (this: FastifyInstance) {
      await liveFeeds.close();
      for (const socket of this.websocketServer.clients) socket.close(1001, 'the gateway is stopping');
      this.websocketServer.close();
    },
  });
  // Every request's span is active for everything after it, refusals included.
  await app.register(tracingPlugin);
  await app.register(browserGuardPlugin, deps.browserGuard);
  // Values that cannot be stored are refused before anything looks them up (route authorization
  // reads the server a path names); authentication still comes first (onRequest).
  await app.register(edgeInputPlugin);
  // Before any route, so that every route registered after it is checked against the authorization table.
  await app.register(authPlugin, { auth: deps.auth, metrics: deps.metrics });

  const httpDuration = new Histogram({
    name: 'switchyard_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics],
  });
  if (deps.mcp) {
    const endpoints = deps.mcp.endpoints;
    new Gauge({
      name: 'switchyard_mcp_sessions',
      help: 'Open MCP sessions on this gateway',
      registers: [deps.metrics],
      collect() {
        this.set(endpoints.sessionCount());
      },
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-correlation-id', String(request.id));
  });
  app.addHook('onResponse', async (request, reply) => {
    httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    request.log.debug(
      {
        method: request.method,
        url: redactedUrl(request.url),
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request',
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchyard',
        description:
          'Event-sourced MCP control plane and gateway. Writes are commands (202); reads come from projections.',
        version: deps.version,
      },
      tags: [
        { name: 'servers', description: 'Registry of upstream MCP servers' },
        { name: 'events', description: 'The append-only event log, for auditors' },
        {
          name: 'audit',
          description: 'The tamper-evident log: verify its hash chain, export signed checkpoints',
        },
        { name: 'projections', description: 'Read models: status and rebuild' },
        { name: 'tools', description: 'Call tools of registered servers over REST' },
        { name: 'tool-calls', description: 'The audited log of every tool call' },
        { name: 'templates', description: 'Template catalog: search, inspect, validate; sources and sync' },
        { name: 'projects', description: 'Projects generated from templates, and code analyses' },
        { name: 'deployments', description: 'Deploy MCP servers: build, start, health gate, switch, drain' },
        { name: 'operations', description: 'Health, readiness, metrics' },
        {
          name: 'access',
          description: 'Identity and access: keys, principals, grants, policies, rate limits',
        },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (sy_…) or an access token of the configured OpenID provider',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async (request) => {
    const doc = app.swagger() as { paths?: Record<string, unknown> };
    const mcp = deps.mcp;
    if (!mcp) return doc;
    // Discovered tools come and go: list each under its own path, current as of this request, and
    // only those this caller may call.
    const mayCall = (s: { name: string; tenant: string; owner: string }, tool: string) =>
      mcp.authz.decide(
        request.principal,
        'tool.call',
        { kind: 'tool', tenant: s.tenant, server: s.name, tool, owner: s.owner },
        { phase: 'list' },
      ).effect === 'allow';
    return { ...doc, paths: { ...doc.paths, ...(await toolPaths(mcp.catalog, mayCall)) } };
  });

  await app.register(healthRoutes(deps));
  if (deps.console) await app.register(consoleRoutes({ ...deps.console, version: deps.version }));
  if (deps.resourceMetadata) await app.register(resourceMetadataRoutes(deps.resourceMetadata));
  await app.register(accessRoutes(deps.access), { prefix: '/api/v1' });
  await app.register(serversRoutes(deps), { prefix: '/api/v1' });
  await app.register(serverRuntimeRoutes(deps), { prefix: '/api/v1' });
  await app.register(serverDetailsRoutes(deps), { prefix: '/api/v1' });
  await app.register(serversHealthRoutes(deps), { prefix: '/api/v1' });
  await app.register(eventsRoutes(deps), { prefix: '/api/v1' });
  await app.register(eventsLiveRoutes(deps, liveFeeds), { prefix: '/api/v1' });
  await app.register(projectionsRoutes(deps), { prefix: '/api/v1' });
  if (deps.system) await app.register(systemRoutes(deps.system), { prefix: '/api/v1' });
  await app.register(toolCallsRoutes(deps), { prefix: '/api/v1' });
  await app.register(toolsetsRoutes(deps), { prefix: '/api/v1' });
  if (deps.templates) {
    await app.register(templatesRoutes(deps.templates), { prefix: '/api/v1' });
    await app.register(projectsRoutes(deps.templates), { prefix: '/api/v1' });
    const webhooks = {
      templates: deps.templates,
      secret: deps.webhookSecret,
      refused: (address: string) => deps.auth.limits.failedAuthentication(address),
    };
    await app.register(webhooksRoutes(webhooks), { prefix: '/api/v1' });
  }
  if (deps.audit) await app.register(auditRoutes(deps.audit), { prefix: '/api/v1' });
  await app.register(
    auditReplayRoutes(deps.store, deps.personalData && ((v) => deps.personalData!.open(v))),
    { prefix: '/api/v1' },
  );
  if (deps.deployments) {
    await app.register(
      deploymentsRoutes({
        deployments: deps.deployments,
        store: deps.store,
        readDb: deps.readDb,
        projections: deps.projections,
        consistencyTimeoutMs: deps.consistencyTimeoutMs,
      }),
      { prefix: '/api/v1' },
    );
  }
  if (deps.mcp) {
    await app.register(toolsRoutes(deps.mcp), { prefix: '/api/v1' });
    await app.register(deps.mcp.endpoints.plugin);
  }
  return app;
}

export type GatewayApp = Awaited<ReturnType<typeof buildApp>>;
