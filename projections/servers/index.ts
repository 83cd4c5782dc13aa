export { redactTransport, serversProjection } from './server.projection.ts';
export type { ListServersOptions, ServerPage, ServerView } from './servers.queries.ts';
export { getServer, getServerByName, listServers } from './servers.queries.ts';
