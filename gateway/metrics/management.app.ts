import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from '../../kernel/logger.ts';
import type { GatewayDeps } from '../deps.ts';
import { notFoundHandler } from '../error-mapping.ts';
import { healthRoutes } from '../routes/health.routes.ts';

/**
 * The management port of a process without the gateway role (worker, runner, relay, projector):
 * `/health`, `/ready` and `/metrics`, the same routes as the gateway's, and nothing else. It has no
 * credentials: like any Prometheus exporter it belongs on a network only operators reach, and it
 * shows counts and names of servers and tools, never arguments, tokens or configuration.
 */
export async function buildManagementApp(
  deps: Pick<GatewayDeps, 'version' | 'readiness' | 'metrics'> & { logger: Logger },
) {
  const app = Fastify({
    loggerInstance: deps.logger.child({ module: 'management' }),
    disableRequestLogging: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setNotFoundHandler(notFoundHandler);
  await app.register(healthRoutes(deps));
  return app;
}

export type ManagementApp = Awaited<ReturnType<typeof buildManagementApp>>;
