import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { healthRoutes } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { type ItemStore, MemoryItemStore } from './store.js';

export interface AppOptions {
  /** Fastify's logger option: `false` (the default, for tests) or pino options. */
  logger?: FastifyServerOptions['logger'];
  /** Where items are kept; a fresh in-memory store by default. */
  store?: ItemStore;
}

/**
 * Builds the whole application without listening on a port. server.ts listens; tests call
 * `app.inject()`, which runs requests through the same routing, validation, hooks and
 * serialization in process, with no socket.
 */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Behind a proxy or load balancer, set trustProxy so request.ip and protocol are the client's.
    trustProxy: false,
    // Refuse bodies over 1 MiB (Fastify's default, spelled out so it is easy to find).
    bodyLimit: 1_048_576,
    ajv: {
      // Fastify's default silently drops properties a schema with `additionalProperties: false`
      // does not list; rejecting them instead turns a typo ("quantitiy") into a 400, not a no-op.
      customOptions: { removeAdditional: false },
    },
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No ${request.method} ${request.url}` });
  });

  app.setErrorHandler((error, request, reply) => {
    const { statusCode = 500, code, message } = error as { statusCode?: number; code?: string; message?: string };
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(statusCode).send({
      statusCode,
      ...(code && statusCode < 500 ? { code } : {}),
      error: STATUS_CODES[statusCode] ?? 'Error',
      // Validation and other client errors explain themselves; server errors stay opaque.
      message: statusCode >= 500 ? 'Something went wrong' : (message ?? ''),
    });
  });

  await app.register(healthRoutes);
  await app.register(itemRoutes, { prefix: '/items', store: options.store ?? new MemoryItemStore() });
  return app;
}
