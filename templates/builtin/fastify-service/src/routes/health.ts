import type { FastifyPluginAsync } from 'fastify';
import { SERVICE_NAME } from '../config.js';
import { VERSION } from '../version.js';

const healthResponse = {
  type: 'object',
  required: ['status', 'name', 'version', 'uptimeSeconds'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    name: { type: 'string' },
    version: { type: 'string' },
    uptimeSeconds: { type: 'integer' },
  },
} as const;

/**
 * Liveness for load balancers, orchestrators and the Dockerfile's HEALTHCHECK. It answers as long
 * as the event loop does; add a readiness route that checks your dependencies (database, queues)
 * when you have some.
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/health',
    { schema: { response: { 200: healthResponse } }, logLevel: 'warn' },
    async () => ({
      status: 'ok' as const,
      name: SERVICE_NAME,
      version: VERSION,
      uptimeSeconds: Math.round(process.uptime()),
    }),
  );
};
