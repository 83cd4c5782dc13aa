export { redactTransport } from './redact-transport.ts';
export { serversProjection } from './server.projection.ts';
export type {
  ListServersOptions,
  ServerDetailView,
  ServerPage,
  ServerView,
} from './servers.queries.ts';
export {
  findServerIdByName,
  getServer,
  getServerByName,
  listAllServers,
  listServers,
} from './servers.queries.ts';
