import type { Migration } from 'kysely';
import * as m001 from './2026-11-21-001-event-store.ts';
import * as m002 from './2026-12-05-001-appender-registration.ts';
import * as m003 from './2026-12-05-002-append-many.ts';
import * as m004 from './2026-12-05-003-append-without-jit.ts';
import * as m005 from './2026-12-06-001-append-serialized.ts';
import * as m006 from './2026-12-06-002-append-serialized-one.ts';
import * as m007 from './2026-12-07-001-event-chain.ts';

/** The event store's migrations, by name; names sort in the order they must run. */
export const eventStoreMigrations: Record<string, Migration> = {
  '2026-11-21-001-event-store': m001,
  '2026-12-05-001-appender-registration': m002,
  '2026-12-05-002-append-many': m003,
  '2026-12-05-003-append-without-jit': m004,
  '2026-12-06-001-append-serialized': m005,
  '2026-12-06-002-append-serialized-one': m006,
  '2026-12-07-001-event-chain': m007,
};
