export type { ServerStats, ToolStats, WindowStats } from './tool-stats.queries.ts';
export { NO_STATS, serverStats, windowStats } from './tool-stats.queries.ts';
