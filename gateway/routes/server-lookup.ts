import type { FastifyRequest } from 'fastify';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import {
  getServer,
  getServerByName,
  type ServerDetailView,
} from '../../projections/servers/servers.queries.ts';
import type { GatewayDeps } from '../deps.ts';
import { tenantScopeOf } from '../request-context.ts';

/**
 * The server a `/servers/:id/…` request is about, by id or name, as the caller's tenant sees it
 * (every tenant for administrators); 404 otherwise. The route table already decided the action on
 * this server (gateway/auth/route-actions.ts): this is the handler's own read of it.
 */
export async function serverOf(
  deps: Pick<GatewayDeps, 'readDb'>,
  request: FastifyRequest,
  idOrName: string,
  options: { includeRemoved?: boolean } = {},
): Promise<ServerDetailView> {
  const scope = tenantScopeOf(request.principal);
  const server = isUuid(idOrName)
    ? await getServer(deps.readDb, idOrName, { ...scope, ...options })
    : await getServerByName(deps.readDb, idOrName, scope);
  if (!server) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${idOrName}`);
  return server;
}
