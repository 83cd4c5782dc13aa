import type { Kysely, Migration } from 'kysely';
import { runMigrations } from '../migrate.ts';
import * as m001 from './2026-11-21-001-projection-checkpoints.ts';
import * as m002 from './2026-11-21-002-servers.ts';
import * as m003 from './2026-11-21-003-catalog.ts';
import * as m004 from './2026-11-21-004-health.ts';
import * as m005 from './2026-11-21-005-tool-calls.ts';
import * as m100 from './2026-11-21-100-saga-checkpoints.ts';
import * as m101 from './2026-11-21-101-templates.ts';
import * as m102 from './2026-11-21-102-projects.ts';
import * as m103 from './2026-11-21-103-template-variable-order.ts';
import * as m104 from './2026-11-21-104-tool-calls-running.ts';
import * as t001 from './2026-12-04-001-tenancy.ts';
import * as p001 from './2026-12-05-001-tool-pins.ts';
import * as ts001 from './2026-12-06-001-toolsets.ts';
import * as ms001 from './2026-12-07-001-mcp-sessions.ts';
import * as d001 from './2026-12-07-002-deployments.ts';

/** The read models' migrations, by name; names sort in the order they must run. */
export const readModelMigrations: Record<string, Migration> = {
  '2026-11-21-001-projection-checkpoints': m001,
  '2026-11-21-002-servers': m002,
  '2026-11-21-003-catalog': m003,
  '2026-11-21-004-health': m004,
  '2026-11-21-005-tool-calls': m005,
  '2026-11-21-100-saga-checkpoints': m100,
  // Numbered after 100: databases that already ran 100 must be able to run these (they sort later).
  '2026-11-21-101-templates': m101,
  '2026-11-21-102-projects': m102,
  '2026-11-21-103-template-variable-order': m103,
  '2026-11-21-104-tool-calls-running': m104,
  '2026-12-04-001-tenancy': t001,
  '2026-12-05-001-tool-pins': p001,
  '2026-12-06-001-toolsets': ts001,
  '2026-12-07-001-mcp-sessions': ms001,
  '2026-12-07-002-deployments': d001,
};

/**
 * Brings the read-model tables (projection checkpoints and every projection's tables) up to date;
 * safe to call on every start. Bookkeeping lives in `sy_read_model_migration`, apart from the event
 * store's, so both can share one database and still migrate independently.
 * @returns names of the migrations applied by this call.
 */
// biome-ignore lint/suspicious/noExplicitAny: any connection, whatever tables its owner typed
export function migrateReadModels(db: Kysely<any>): Promise<string[]> {
  return runMigrations(db, readModelMigrations, 'sy_read_model_migration');
}
