export { healthProjection } from './health.projection.ts';
export type { ServerHealthView } from './health.queries.ts';
export { healthOfServers, serverHealth, UNCHECKED } from './health.queries.ts';
export type { HealthProbe } from './health-probes.ts';
export { recordHealthProbe } from './health-probes.ts';
