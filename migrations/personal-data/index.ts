import type { Migration } from 'kysely';
import * as m001 from './2026-12-07-001-data-keys.ts';

/** The personal-data key store's migrations, by name; names sort in the order they must run. */
export const personalDataMigrations: Record<string, Migration> = {
  '2026-12-07-001-data-keys': m001,
};
