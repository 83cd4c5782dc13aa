export { toolsetsProjection } from './toolsets.projection.ts';
export type { ToolsetView } from './toolsets.queries.ts';
export { getToolset, listToolsets } from './toolsets.queries.ts';
