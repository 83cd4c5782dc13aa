import { type Kysely, sql } from 'kysely';

// Frozen: this file describes the schema as of its date. Change the schema with a new migration.

// sy_es.append_many runs without JIT compilation. Its statements are planned generically with the
// default row estimates of set-returning functions (1,000 rows each), so the statement that numbers
// the events of each entry (generate_subscripts × generate_series) is costed at ~136,000, above
// jit_above_cost (100,000): PostgreSQL then JIT-compiled it on every call — 2 to 8 ms of LLVM code
// generation for an append whose own work takes a few hundred microseconds (found with auto_explain:
// "JIT: Functions: 7, Emission 7.2 ms" on a one-event append). The statements touch a handful of
// rows; JIT never pays off here. Where PostgreSQL was built without JIT (PGlite), the setting is
// accepted and changes nothing.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION sy_es.append_many(text[], text[], text[], int[], uuid[], text[], text[], text[]) SET jit = off`.execute(
    db,
  );
}
