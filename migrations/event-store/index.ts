import type { Migration } from 'kysely';
import * as m001 from './2026-11-21-001-event-store.ts';

/** The event store's migrations, by name; names sort in the order they must run. */
export const eventStoreMigrations: Record<string, Migration> = {
  '2026-11-21-001-event-store': m001,
};
