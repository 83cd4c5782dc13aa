export type { ServerStats, ToolStats } from './tool-stats.queries.ts';
export { NO_STATS, serverStats } from './tool-stats.queries.ts';
