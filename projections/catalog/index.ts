export { catalogProjection } from './catalog.projection.ts';
export type { CatalogView, ListCatalogOptions } from './catalog.queries.ts';
export { getServerCatalog, listCatalog } from './catalog.queries.ts';
